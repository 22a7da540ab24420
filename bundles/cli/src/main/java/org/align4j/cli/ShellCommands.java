package org.align4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Supplier;

import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunService;
import org.align4j.api.runs.RunState;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The Gogo commands (plain service properties, no Gogo dependency), all through {@link RunService}; each returns an
 * object the shell prints as a table or a summary, and a mistake is printed as a sentence on the session's error
 * stream (no exception class):
 * <pre>
 * align4j:run examples/tiny.yaml stages.0.steps=10 run.name=try2       # queues it and waits; Ctrl-C stops it
 * align4j:submit examples/tiny.yaml stages.0.steps=10                  # queues it and returns
 * align4j:runs                                                         # every run: state, stage, step, ETA
 * align4j:pause|resume|stop tiny                                       # one run (align4j:stop alone: all)
 * align4j:metrics tiny [loss]                                          # its newest metrics (or one metric's)
 * align4j:reward tiny arithmetic-rm [2]                                # switch a running PPO stage's reward model
 * align4j:plugins                                                      # every align4j plugin and its bundle
 * </pre>
 */
@Component(service = ShellCommands.class, property = {
    "osgi.command.scope=align4j",
    "osgi.command.function=run",
    "osgi.command.function=submit",
    "osgi.command.function=runs",
    "osgi.command.function=pause",
    "osgi.command.function=resume",
    "osgi.command.function=stop",
    "osgi.command.function=metrics",
    "osgi.command.function=reward",
    "osgi.command.function=plugins"})
public final class ShellCommands {
    private final RunService runs;

    @Activate
    public ShellCommands(@Reference(name = "runs") RunService runs) {
        this.runs = runs;
    }

    /** What {@code align4j:run} returns: the run's summary (stages, results, files), as headless mode prints it. */
    public static final class Ended {
        private final RunInfo run;

        Ended(RunInfo run) {
            this.run = run;
        }

        public RunInfo run() {
            return run;
        }

        @Override
        public String toString() {
            return run.summary().isEmpty() ? run.toString() : run.summary();
        }
    }

    /**
     * {@code align4j:run <file> [key=value...]}: queues the file and waits for it in the shell; Ctrl-C asks it to
     * stop (it writes a checkpoint). A failure is printed as its sentence and the command returns nothing.
     */
    public Object run(String file, Object... overrides) {
        RunInfo r;
        try {
            r = runs.submit(request(file, overrides));
        } catch (IllegalArgumentException | IllegalStateException e) { // SettingsException too
            System.err.println("align4j:run: " + e.getMessage());
            return null;
        }
        RunInfo end = r;
        try {
            end = runs.await(r.id(), Duration.ofDays(3650));
        } catch (InterruptedException e) {
            runs.stop(r.id(), "interrupted");
            end = awaitUninterrupted(r.id());
        }
        if (end.state() == RunState.FAILED) {
            System.err.println("align4j:run: " + end.message());
            return null;
        }
        return new Ended(end);
    }

    private RunInfo awaitUninterrupted(String id) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return runs.await(id, Duration.ofDays(3650));
                } catch (InterruptedException again) {
                    interrupted = true; // the run writes its checkpoint first
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@code align4j:submit <file> [key=value...]}: checks the file and queues it; returns the queued run. */
    public Object submit(String file, Object... overrides) {
        return act("submit", () -> runs.submit(request(file, overrides)));
    }

    private static RunRequest request(String file, Object... overrides) {
        return RunRequest.of(Path.of(file).toAbsolutePath(), rejoin(overrides)).from("shell");
    }

    /**
     * The overrides as typed. Gogo reads {@code stages[0].steps=600} as three arguments, {@code stages}, the list
     * {@code [0]} and {@code .steps=600}; a piece without {@code =} is joined to the pieces after it until one holds
     * the {@code =}, and a list is written back as {@code [0]}. ({@code stages.0.steps=600} needs none of this.)
     */
    static List<String> rejoin(Object... args) {
        List<String> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (Object a : args) {
            String piece = a instanceof Collection<?> c
                    ? "[" + String.join(",", c.stream().map(String::valueOf).toList()) + "]" : String.valueOf(a);
            pending.append(piece);
            if (pending.indexOf("=") >= 0) {
                out.add(pending.toString());
                pending.setLength(0);
            }
        }
        if (pending.length() > 0) {
            out.add(pending.toString()); // no '=': RunRequest.of says what is expected
        }
        return out;
    }

    /** {@code align4j:runs}: every run of this server, newest first. */
    public RunTable runs() {
        return new RunTable(runs.runs());
    }

    public Object pause(String run) {
        return act("pause", () -> runs.pause(run));
    }

    public Object resume(String run) {
        return act("resume", () -> runs.resume(run));
    }

    /** {@code align4j:stop}: asks every run that has not ended to stop. */
    public Object stop() {
        List<RunInfo> asked = new ArrayList<>();
        for (RunInfo r : runs.runs()) {
            if (!r.state().ended()) {
                asked.add(runs.stop(r.id(), "align4j:stop command"));
            }
        }
        return asked.isEmpty() ? "no run is in progress" : new RunTable(asked);
    }

    /** {@code align4j:stop <run>}: a running run writes a checkpoint at its next step and stops; a queued one is
     * dropped. */
    public Object stop(String run) {
        return act("stop", () -> runs.stop(run, "align4j:stop command"));
    }

    public Object reward(String run, String name) {
        return reward(run, name, "");
    }

    /** {@code align4j:reward <run> <name> [version]}: switches the reward model of a running stage. */
    public Object reward(String run, String name, String version) {
        return act("reward", () -> runs.retargetReward(run, name, version));
    }

    public Object metrics(String run) {
        return metrics(run, null);
    }

    /** {@code align4j:metrics <run> [name]}: the newest value of each metric, or every kept value of one. */
    public Object metrics(String run, String name) {
        try {
            return new MetricTable(runs.metrics(run, 0), name);
        } catch (NoSuchElementException e) {
            System.err.println("align4j:metrics: " + e.getMessage());
            return null;
        }
    }

    /** {@code align4j:plugins}: kind, name, bundle and version of every align4j plugin. */
    public PluginTable plugins() {
        return new PluginTable(runs.plugins());
    }

    private static Object act(String command, Supplier<RunInfo> action) {
        try {
            return new RunTable(List.of(action.get()));
        } catch (NoSuchElementException | IllegalStateException | IllegalArgumentException e) {
            System.err.println("align4j:" + command + ": " + e.getMessage());
            return null;
        }
    }

    static String state(RunInfo r) {
        return r.state().name().toLowerCase(Locale.ROOT);
    }
}
