package org.align4j.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunService;
import org.align4j.pipeline.internal.Overrides;
import org.align4j.pipeline.internal.PluginInfo;
import org.align4j.pipeline.internal.RunControl;
import org.align4j.pipeline.internal.RunFailure;
import org.align4j.pipeline.internal.RunOutcome;
import org.align4j.pipeline.internal.Texts;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands (plain service properties, no Gogo dependency); each returns an object the shell prints:
 * <pre>
 * align4j:run examples/tiny.yaml 'stages[0].steps=10' run.name=try2   # runs in the shell's thread; Ctrl-C stops it
 * align4j:stop [run]                                                   # asks one run (or all) to stop
 * align4j:plugins                                                      # every align4j plugin and its bundle
 * align4j:submit examples/tiny.yaml stages.0.steps=10                   # queues it (the run service) and returns
 * align4j:runs                                                         # submitted runs: state, stage, step, ETA
 * align4j:pause|resume|stop tiny                                       # a submitted run
 * align4j:metrics tiny [loss]                                          # its newest metrics (or one metric's)
 * align4j:reward tiny arithmetic-rm [2]                                # switch a running PPO stage's reward model
 * </pre>
 * Quote overrides that contain brackets: the shell reads {@code [...]} as a list.
 */
@Component(service = PipelineCommands.class, property = {
    "osgi.command.scope=align4j",
    "osgi.command.function=run",
    "osgi.command.function=stop",
    "osgi.command.function=plugins",
    "osgi.command.function=submit",
    "osgi.command.function=runs",
    "osgi.command.function=pause",
    "osgi.command.function=resume",
    "osgi.command.function=metrics",
    "osgi.command.function=reward"})
public final class PipelineCommands {

    /** The plugins table: one row per plugin, columns aligned. */
    public static final class PluginTable {
        private final List<PluginInfo> rows;

        PluginTable(List<PluginInfo> rows) {
            this.rows = List.copyOf(rows);
        }

        public List<PluginInfo> rows() {
            return rows;
        }

        @Override
        public String toString() {
            String[] head = {"KIND", "NAME", "BUNDLE", "VERSION"};
            int[] w = new int[4];
            for (int i = 0; i < 4; i++) {
                w[i] = head[i].length();
            }
            for (PluginInfo p : rows) {
                w[0] = Math.max(w[0], p.kind().length());
                w[1] = Math.max(w[1], p.name().length());
                w[2] = Math.max(w[2], p.bundle().length());
            }
            String fmt = "%-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %s%n";
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, fmt, (Object[]) head));
            for (PluginInfo p : rows) {
                b.append(String.format(Locale.ROOT, fmt, p.kind(), p.name(), p.bundle(), p.version()));
            }
            if (rows.isEmpty()) {
                b.append("(no align4j plugin is registered)\n");
            }
            return b.toString();
        }
    }

    private final RunControl runs;
    private final RunService queue;

    @Activate
    public PipelineCommands(@Reference(name = "runs") RunControl runs, @Reference(name = "queue") RunService queue) {
        this.runs = runs;
        this.queue = queue;
    }

    /** {@code align4j:submit <file> [key=value...]}: checks the file and queues it; returns the queued run. */
    public Object submit(String file, Object... overrides) {
        try {
            return new RunTable(List.of(queue.submit(RunRequest.of(Path.of(file).toAbsolutePath(),
                    Overrides.parse(rejoin(overrides))).from("shell"))));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("align4j:submit: " + e.getMessage());
            return null;
        }
    }

    /** {@code align4j:runs}: every submitted run, newest first. */
    public RunTable runs() {
        return new RunTable(queue.runs());
    }

    /** {@code align4j:pause <run>}. */
    public Object pause(String run) {
        return act("pause", () -> queue.pause(run));
    }

    /** {@code align4j:resume <run>}. */
    public Object resume(String run) {
        return act("resume", () -> queue.resume(run));
    }

    /** {@code align4j:reward <run> <name> [version]}: switches the reward model of a running stage. */
    public Object reward(String run, String name) {
        return reward(run, name, "");
    }

    public Object reward(String run, String name, String version) {
        return act("reward", () -> queue.retargetReward(run, name, version));
    }

    /** {@code align4j:metrics <run>}: the newest value of each metric, with its step. */
    public Object metrics(String run) {
        return metrics(run, null);
    }

    /** {@code align4j:metrics <run> <name>}: every kept value of one metric (step, value), oldest first. */
    public Object metrics(String run, String name) {
        try {
            return new MetricTable(queue.metrics(run, 0), name);
        } catch (java.util.NoSuchElementException e) {
            System.err.println("align4j:metrics: " + e.getMessage());
            return null;
        }
    }

    private static Object act(String command, java.util.function.Supplier<RunInfo> action) {
        try {
            return new RunTable(List.of(action.get()));
        } catch (java.util.NoSuchElementException | IllegalStateException | IllegalArgumentException e) {
            System.err.println("align4j:" + command + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * {@code align4j:run <file> [key=value...]}: runs a pipeline file and returns how it ended. A problem (a bad file,
     * key or override, a run that fails) is printed as the sentence that says what is wrong, on the session's error
     * stream, and the command returns nothing: no exception class in the shell.
     */
    public RunOutcome run(String file, Object... overrides) {
        try {
            return runs.execute(Path.of(file), Overrides.parse(rejoin(overrides)));
        } catch (RunFailure | IllegalArgumentException | IllegalStateException e) { // SettingsException too
            System.err.println("align4j:run: " + e.getMessage());
            return null;
        }
    }

    /**
     * The overrides as typed. Gogo reads {@code stages[0].steps=600} as three arguments, {@code stages}, the list
     * {@code [0]} and {@code .steps=600}; a piece without {@code =} is joined to the pieces after it until one holds
     * the {@code =}, and a list is written back as {@code [0]}. ({@code stages.0.steps=600} needs none of this.)
     */
    static List<String> rejoin(Object... args) {
        List<String> out = new java.util.ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (Object a : args) {
            String piece = a instanceof java.util.Collection<?> c
                    ? "[" + String.join(",", c.stream().map(String::valueOf).toList()) + "]" : String.valueOf(a);
            pending.append(piece);
            if (pending.indexOf("=") >= 0) {
                out.add(pending.toString());
                pending.setLength(0);
            }
        }
        if (pending.length() > 0) {
            out.add(pending.toString()); // no '=': Overrides.parse says what is expected
        }
        return out;
    }

    /** {@code align4j:stop}: asks every run to stop. */
    public String stop() {
        return stop(null);
    }

    /** {@code align4j:stop <run>}: asks one run to stop at its next boundary (it writes a checkpoint first). */
    public String stop(String run) {
        if (run != null && queue.run(run).isPresent()) {
            RunInfo r = queue.stop(run, "align4j:stop command");
            return r.state().ended() ? "run " + run + " is " + r.state().name().toLowerCase(Locale.ROOT)
                    : "asked " + run + " to stop; it stops at the next step boundary after writing a checkpoint";
        }
        List<String> asked = runs.stopRuns(run, "align4j:stop command");
        if (asked.isEmpty()) {
            return run == null ? "no run is in progress"
                    : "no run named " + run + " is in progress (running: " + Texts.list(runs.running()) + ")";
        }
        return "asked " + String.join(", ", asked) + " to stop; " + (asked.size() == 1 ? "it stops" : "they stop")
                + " at the next step boundary after writing a checkpoint";
    }

    /** {@code align4j:plugins}: kind, name, bundle and version of every align4j plugin. */
    public PluginTable plugins() {
        return new PluginTable(runs.plugins());
    }
}
