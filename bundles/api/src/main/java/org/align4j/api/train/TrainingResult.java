package org.align4j.api.train;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** How a stage ended. */
public final class TrainingResult {

    /** Whether the stage ran to its end. */
    public enum Status {
        /** All steps done. */
        COMPLETED,
        /** Stopped on request after writing a checkpoint; running the pipeline again resumes it. */
        STOPPED
    }

    private final Status status;
    private final long step;
    private final Map<String, Double> metrics;
    private final List<String> samples;
    private final Path output;

    public TrainingResult(Status status, long step, Map<String, Double> metrics, List<String> samples, Path output) {
        this.status = Objects.requireNonNull(status, "status");
        this.step = step;
        this.metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        this.samples = List.copyOf(samples);
        this.output = output;
    }

    public Status status() {
        return status;
    }

    /** The last step done. */
    public long step() {
        return step;
    }

    /** Final metrics (e.g. {@code eval_loss}, {@code eval_perplexity}, {@code eval_unigram_perplexity}). */
    public Map<String, Double> metrics() {
        return metrics;
    }

    /** Texts generated from the trained model, if the stage samples. */
    public List<String> samples() {
        return samples;
    }

    /** The directory of the final model (weights + config), or the last checkpoint when stopped. */
    public Path output() {
        return output;
    }
}
