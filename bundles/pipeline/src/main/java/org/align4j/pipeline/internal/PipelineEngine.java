package org.align4j.pipeline.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.align4j.api.pipeline.Settings;

/**
 * Reads, checks and runs pipeline files, and keeps the runs in progress so they can be stopped. Free of OSGi: the
 * registry comes in as {@link Plugins} (one per run) and {@link Trainers}.
 */
public final class PipelineEngine {

    /** Timeouts and the directory relative paths are resolved against. */
    public static final class Options {
        final Duration pluginWait;
        final Duration trainerWait;
        final Path baseDir;

        public Options(Duration pluginWait, Duration trainerWait, Path baseDir) {
            this.pluginWait = pluginWait;
            this.trainerWait = trainerWait;
            this.baseDir = baseDir.toAbsolutePath().normalize();
        }
    }

    private final Supplier<Plugins> plugins;
    private final Trainers trainers;
    private final EventBus bus;
    private final Options options;
    private final LongSupplier clock;
    private final Map<String, RunState> runs = new ConcurrentHashMap<>();

    public PipelineEngine(Supplier<Plugins> plugins, Trainers trainers, EventBus bus, Options options,
            LongSupplier clock) {
        this.plugins = plugins;
        this.trainers = trainers;
        this.bus = bus;
        this.options = options;
        this.clock = clock;
    }

    /**
     * Reads, checks and runs {@code file} in the calling thread.
     *
     * @throws org.align4j.api.pipeline.SettingsException when the file is invalid (nothing ran)
     * @throws IllegalStateException when a run of the same name or directory is in progress
     * @throws RunFailure when the run failed after it started
     */
    public RunOutcome run(Path file, Map<String, String> overrides) throws RunFailure {
        return run(file, overrides, null, s -> { });
    }

    /**
     * As {@link #run(Path, Map)}, with relative paths resolved against {@code workspace} and every path confined to
     * it when it is not {@code null} ({@link Confinement}); {@code started} gets the run's state before it starts,
     * so the caller can pause and stop it.
     */
    public RunOutcome run(Path file, Map<String, String> overrides, Path workspace,
            java.util.function.Consumer<RunState> started) throws RunFailure {
        Settings settings = read(file, overrides, workspace);
        try (Plugins p = plugins.get()) {
            PipelinePlan plan = validate(p, settings, workspace);
            RunState state = register(plan);
            started.accept(state);
            try {
                return new PipelineRun(plan, p, trainers, bus, state, options.pluginWait, options.trainerWait, clock)
                        .execute();
            } finally {
                runs.remove(plan.name(), state);
                state.finished();
            }
        }
    }

    /**
     * Reads and checks {@code file} as {@link #run} does before it runs anything (every key, file and plugin name,
     * each trainer's own check of its stage), and runs nothing: no data is read or generated, no folder is made.
     *
     * @throws org.align4j.api.pipeline.SettingsException when the file is invalid
     */
    public PipelinePlan check(Path file, Map<String, String> overrides) {
        return check(file, overrides, null);
    }

    /** As {@link #check(Path, Map)}, confined to {@code workspace} when it is not {@code null}. */
    public PipelinePlan check(Path file, Map<String, String> overrides, Path workspace) {
        Settings settings = read(file, overrides, workspace);
        try (Plugins p = plugins.get()) {
            return validate(p, settings, workspace);
        }
    }

    private static Settings read(Path file, Map<String, String> overrides, Path workspace) {
        if (workspace == null) {
            return PipelineFile.read(file, overrides);
        }
        Path f = workspace.resolve(file).normalize();
        Confinement.checkFile(workspace, f);
        Settings settings = PipelineFile.read(f, overrides);
        Confinement.check(settings, workspace);
        return settings;
    }

    private PipelinePlan validate(Plugins p, Settings settings, Path workspace) {
        Path base = workspace == null ? options.baseDir : workspace.toAbsolutePath().normalize();
        PipelinePlan plan = new PipelineValidator(p, trainers, options.pluginWait, base).validate(settings);
        if (workspace != null) {
            Confinement.checkPath(workspace, plan.workDir(), settings.source(), "run.workdir");
        }
        return plan;
    }

    private synchronized RunState register(PipelinePlan plan) {
        for (RunState r : runs.values()) {
            if (r.name().equals(plan.name()) || r.workDir().equals(plan.workDir())) {
                throw new IllegalStateException("run " + r.name() + " (" + r.workDir() + ") is already running;"
                        + " stop it first (align4j:stop " + r.name() + ") or give this run another run.name and"
                        + " run.workdir");
            }
        }
        RunState state = new RunState(plan.name(), plan.workDir(), Thread.currentThread());
        runs.put(plan.name(), state);
        return state;
    }

    /**
     * Asks {@code run} (every run when {@code null}) to stop at its next boundary.
     *
     * @return the names of the runs asked
     */
    public List<String> stop(String run, String reason) {
        List<String> asked = new ArrayList<>();
        for (RunState r : runs.values()) {
            if (run == null || r.name().equals(run)) {
                r.requestStop(reason);
                asked.add(r.name());
            }
        }
        return asked;
    }

    /** The names of the runs in progress. */
    public List<String> running() {
        List<String> names = new ArrayList<>(runs.keySet());
        names.sort(null);
        return names;
    }

    /**
     * Stops every run and waits up to {@code wait} in all for them to end.
     *
     * @return the runs still going when the time was up
     */
    public List<String> stopAll(String reason, Duration wait) throws InterruptedException {
        List<RunState> all = new ArrayList<>(runs.values());
        for (RunState r : all) {
            r.requestStop(reason);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<String> left = new ArrayList<>();
        for (RunState r : all) {
            long ms = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            if (!r.awaitEnd(ms)) {
                left.add(r.name());
            }
        }
        return left;
    }
}
