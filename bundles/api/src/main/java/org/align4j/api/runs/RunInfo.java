package org.align4j.api.runs;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A snapshot of one submitted run. {@link #id()} names it in every call of {@link RunService}; it is the run's
 * name ({@code run.name} of the file), with {@code ~2}, {@code ~3}... added when a run of that name was submitted
 * before in this process.
 */
public final class RunInfo {
    private final String id;
    private final String name;
    private final Path file;
    private final Path workDir;
    private final RunState state;
    private final String stage;
    private final long step;
    private final long totalSteps;
    private final double etaSeconds;
    private final long submitted;
    private final long started;
    private final long ended;
    private final String message;
    private final String rewardModel;
    private final boolean rewardStage;
    private final String summary;
    private final int exitCode;
    private final String trace;

    /** Every field; see the accessors. */
    public RunInfo(String id, String name, Path file, Path workDir, RunState state, String stage, long step,
            long totalSteps, double etaSeconds, long submitted, long started, long ended, String message,
            String rewardModel, boolean rewardStage, String summary, int exitCode, String trace) {
        this.id = Objects.requireNonNull(id, "id");
        this.name = Objects.requireNonNull(name, "name");
        this.file = file;
        this.workDir = workDir;
        this.state = Objects.requireNonNull(state, "state");
        this.stage = stage == null ? "" : stage;
        this.step = step;
        this.totalSteps = totalSteps;
        this.etaSeconds = etaSeconds;
        this.submitted = submitted;
        this.started = started;
        this.ended = ended;
        this.message = message == null ? "" : message;
        this.rewardModel = rewardModel == null ? "" : rewardModel;
        this.rewardStage = rewardStage;
        this.summary = summary == null ? "" : summary;
        this.exitCode = exitCode;
        this.trace = trace == null ? "" : trace;
    }

    public String id() {
        return id;
    }

    /** The run's name from its file. */
    public String name() {
        return name;
    }

    /** The pipeline file. */
    public Path file() {
        return file;
    }

    /** The run's folder. */
    public Path workDir() {
        return workDir;
    }

    public RunState state() {
        return state;
    }

    /** The current (or last) stage, e.g. {@code 2:ppo}; empty before the first stage starts. */
    public String stage() {
        return stage;
    }

    /** The last step the current stage reported. */
    public long step() {
        return step;
    }

    /** The current stage's length in steps; 0 when not known yet. */
    public long totalSteps() {
        return totalSteps;
    }

    /** Seconds until the current stage ends, from its step rate; -1 when not known (or not running). */
    public double etaSeconds() {
        return etaSeconds;
    }

    /** When it was submitted, started and ended (epoch milliseconds; 0 when not yet). */
    public long submitted() {
        return submitted;
    }

    public long started() {
        return started;
    }

    public long ended() {
        return ended;
    }

    /** Why it failed or stopped, or the pause/queue note; empty otherwise. */
    public String message() {
        return message;
    }

    /** The reward model the current stage scores with ({@code name version}); empty when none is known. */
    public String rewardModel() {
        return rewardModel;
    }

    /** Whether the current stage uses a reward model that {@link RunService#retargetReward} can switch. */
    public boolean rewardStage() {
        return rewardStage;
    }

    /** How the run ended, as printed at the end of a headless run (stages, results, files); empty until it ends. */
    public String summary() {
        return summary;
    }

    /** The exit code of a headless run that ended like this: 0 completed, 1 failed, 2 invalid file, 3 stopped. */
    public int exitCode() {
        return exitCode;
    }

    /** The stack trace of what made the run fail (for {@code align4j.debug}); empty otherwise. */
    public String trace() {
        return trace;
    }

    @Override
    public String toString() {
        return id + " " + state.name().toLowerCase(java.util.Locale.ROOT) + (stage.isEmpty() ? "" : " " + stage
                + " step " + step + "/" + totalSteps) + (message.isEmpty() ? "" : ": " + message);
    }
}
