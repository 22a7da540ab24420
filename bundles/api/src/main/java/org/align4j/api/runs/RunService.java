package org.align4j.api.runs;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The door to runs: the web console, the shell commands and headless mode all use this service. Runs are checked
 * when submitted (an invalid file is refused at once, nothing queued), queued, and run in threads of their own, a
 * configured number at a time. Metrics and log lines of the runs of this process are kept in memory (the newest
 * ones, within limits), so readers can follow a run from any point.
 */
@ProviderType
public interface RunService {

    /**
     * Checks and queues a run.
     *
     * @throws org.align4j.api.pipeline.SettingsException when the file is invalid (file, key and what is accepted)
     * @throws IllegalArgumentException when a path escapes the request's workspace
     */
    RunInfo submit(RunRequest request);

    /**
     * Checks a pipeline file as {@link #submit} does (every key, file and plugin name, each trainer's check of its
     * stage) and runs nothing.
     *
     * @throws org.align4j.api.pipeline.SettingsException when the file is invalid
     */
    PipelineCheck check(RunRequest request);

    /** Every plugin a pipeline can name: services with {@code align4j.name}, and trainer components. */
    List<PluginDescription> plugins();

    /** Every run of this process, newest first. */
    List<RunInfo> runs();

    Optional<RunInfo> run(String id);

    /** Waits up to {@code timeout} for the run to end; returns its state then. */
    RunInfo await(String id, Duration timeout) throws InterruptedException;

    /**
     * Asks a run to stop: a queued run is dropped, a running or paused one writes a checkpoint at its next boundary
     * and stops.
     *
     * @throws java.util.NoSuchElementException when no run has that id
     */
    RunInfo stop(String id, String reason);

    /** Pauses a running run at its next step boundary (its graph and memory stay). */
    RunInfo pause(String id);

    /** Lets a paused run go on. */
    RunInfo resume(String id);

    /** The run's metrics with {@link RunSample#seq()} above {@code after} (0: from the start kept). */
    List<RunSample> metrics(String id, long after);

    /** The run's log lines with {@link RunLogLine#seq()} above {@code after}. */
    List<RunLogLine> log(String id, long after);

    /**
     * Switches the reward model of the run's current stage to the one named (newest version unless
     * {@code version} is given; an ensemble is named like any reward model). The stage takes it at its next rollout.
     *
     * @throws IllegalStateException when the run is not running a stage that scores with a reward model
     */
    RunInfo retargetReward(String id, String name, String version);
}
