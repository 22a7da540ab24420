package org.align4j.api.metrics;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One event of a run, sent to every {@link TrainingListener}. Metric names follow TRL's ({@link MetricNames}).
 */
public final class TrainingEvent {

    /** What happened. */
    public enum Kind {
        /** A run (all its stages) starts; {@link #message()} is the pipeline file. */
        RUN_STARTED,
        /** A stage starts; {@link #totalSteps()} is its length. */
        STAGE_STARTED,
        /** A training step ended; metrics hold loss, learning rate, grad norm, tokens/s. */
        STEP,
        /** An evaluation ended; metrics hold {@code eval_*}. */
        EVALUATION,
        /** A checkpoint was written; {@link #message()} is its directory. */
        CHECKPOINT,
        /** A plugin was swapped at a boundary; {@link #message()} says which, from what to what. */
        SWAP,
        /** A line worth showing a person (a sample, a summary). */
        MESSAGE,
        /**
         * Something a person should look at while the run goes on, e.g. PPO's reward-hacking monitor firing;
         * {@link #message()} says what was seen and what to do.
         *
         * @since 1.1
         */
        WARNING,
        /** A stage ended normally. */
        STAGE_FINISHED,
        /** A run ended normally. */
        RUN_FINISHED,
        /** A run ended with an error or was stopped; {@link #message()} says why. */
        RUN_FAILED
    }

    private final Kind kind;
    private final String run;
    private final String stage;
    private final long step;
    private final long totalSteps;
    private final long timeMillis;
    private final Map<String, Double> metrics;
    private final Map<String, String> labels;
    private final String message;
    private final Path workDir;

    private TrainingEvent(Builder b) {
        this.kind = Objects.requireNonNull(b.kind, "kind");
        this.run = Objects.requireNonNull(b.run, "run");
        this.stage = b.stage == null ? "" : b.stage;
        this.step = b.step;
        this.totalSteps = b.totalSteps;
        this.timeMillis = b.timeMillis == 0 ? System.currentTimeMillis() : b.timeMillis;
        this.metrics = Collections.unmodifiableMap(new LinkedHashMap<>(b.metrics));
        this.labels = Collections.unmodifiableMap(new LinkedHashMap<>(b.labels));
        this.message = b.message == null ? "" : b.message;
        this.workDir = b.workDir;
    }

    public static Builder builder(Kind kind, String run) {
        return new Builder(kind, run);
    }

    public Kind kind() {
        return kind;
    }

    /** The run's name. */
    public String run() {
        return run;
    }

    /** The stage, e.g. {@code 0:pretrain}; empty for run-level events. */
    public String stage() {
        return stage;
    }

    public long step() {
        return step;
    }

    public long totalSteps() {
        return totalSteps;
    }

    public long timeMillis() {
        return timeMillis;
    }

    public Map<String, Double> metrics() {
        return metrics;
    }

    /**
     * Text attributes of the event, e.g. {@code reward_model} ({@code arithmetic-rm 2}) on every step of a PPO
     * stage: what the metrics were measured with. Empty for most events.
     *
     * @since 1.1
     */
    public Map<String, String> labels() {
        return labels;
    }

    public String message() {
        return message;
    }

    /** The run's working directory, where sinks may write; may be {@code null}. */
    public Path workDir() {
        return workDir;
    }

    @Override
    public String toString() {
        return kind + " " + run + " " + stage + " step " + step + "/" + totalSteps + " " + metrics
                + (labels.isEmpty() ? "" : " " + labels) + (message.isEmpty() ? "" : " " + message);
    }

    /** Builds a {@link TrainingEvent}. */
    public static final class Builder {
        private final Kind kind;
        private final String run;
        private String stage;
        private long step;
        private long totalSteps;
        private long timeMillis;
        private final Map<String, Double> metrics = new LinkedHashMap<>();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private String message;
        private Path workDir;

        private Builder(Kind kind, String run) {
            this.kind = kind;
            this.run = run;
        }

        public Builder stage(String v) {
            stage = v;
            return this;
        }

        public Builder step(long v) {
            step = v;
            return this;
        }

        public Builder totalSteps(long v) {
            totalSteps = v;
            return this;
        }

        public Builder time(long millis) {
            timeMillis = millis;
            return this;
        }

        public Builder metric(String name, double value) {
            metrics.put(name, value);
            return this;
        }

        public Builder metrics(Map<String, Double> m) {
            metrics.putAll(m);
            return this;
        }

        /** @since 1.1 */
        public Builder label(String name, String value) {
            labels.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** @since 1.1 */
        public Builder labels(Map<String, String> m) {
            m.forEach(this::label);
            return this;
        }

        public Builder message(String v) {
            message = v;
            return this;
        }

        public Builder workDir(Path v) {
            workDir = v;
            return this;
        }

        public TrainingEvent build() {
            return new TrainingEvent(this);
        }
    }
}
