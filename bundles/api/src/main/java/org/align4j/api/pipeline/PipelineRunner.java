package org.align4j.api.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.train.TrainingResult;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs pipeline files. Registered by the pipeline bundle; the launcher, the Gogo commands and the web console all
 * run pipelines through it.
 */
@ProviderType
public interface PipelineRunner {

    /** How a whole run ended. */
    final class RunReport {
        private final String run;
        private final Path workDir;
        private final List<TrainingResult> stages;
        private final Map<String, Long> counters;

        public RunReport(String run, Path workDir, List<TrainingResult> stages, Map<String, Long> counters) {
            this.run = run;
            this.workDir = workDir;
            this.stages = List.copyOf(stages);
            this.counters = Map.copyOf(counters);
        }

        public String run() {
            return run;
        }

        public Path workDir() {
            return workDir;
        }

        public List<TrainingResult> stages() {
            return stages;
        }

        /** Summary counters, e.g. {@code skipped_lines}. */
        public Map<String, Long> counters() {
            return counters;
        }
    }

    /**
     * Reads, checks and runs {@code pipelineFile} in the calling thread. {@code overrides} replace values of the file
     * by key path ({@code stages[0].steps=10}).
     *
     * @throws SettingsException on an invalid file, before anything runs
     * @throws Exception what a stage threw
     */
    RunReport run(Path pipelineFile, Map<String, String> overrides) throws Exception;

    /** Asks the run named {@code run} (or every run, when {@code null}) to stop at its next boundary. */
    void stop(String run, String reason);
}
