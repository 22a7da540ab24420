package org.align4j.pipeline.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the shell commands and headless mode need of the runner beyond the public
 * {@link org.align4j.api.pipeline.PipelineRunner}: the outcome with stage labels and stop reason, the runs in
 * progress, and the plugins installed. Registered by the runner component under this (private) interface too.
 */
public interface RunControl {

    /** Runs a pipeline file in the calling thread; see {@link PipelineEngine#run}. */
    RunOutcome execute(Path file, Map<String, String> overrides) throws RunFailure;

    /** Checks a pipeline file without running it; see {@link PipelineEngine#check}. */
    PipelinePlan check(Path file, Map<String, String> overrides);

    /** Asks {@code run} (all when {@code null}) to stop; returns the runs asked. */
    List<String> stopRuns(String run, String reason);

    /** Runs in progress. */
    List<String> running();

    /** Every align4j plugin: registered services with {@code align4j.name}, and trainer components. */
    List<PluginInfo> plugins();
}
