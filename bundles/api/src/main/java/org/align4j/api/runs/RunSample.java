package org.align4j.api.runs;

import java.util.Map;

/**
 * The metrics of one step or evaluation of a run, numbered in the order they arrived ({@link #seq()} from 1), so
 * that a reader asks only for what is new.
 */
public final class RunSample {
    /** A training step or an evaluation. */
    public enum Kind { STEP, EVALUATION }

    private final long seq;
    private final long timeMillis;
    private final String stage;
    private final long step;
    private final Kind kind;
    private final Map<String, Double> metrics;

    public RunSample(long seq, long timeMillis, String stage, long step, Kind kind, Map<String, Double> metrics) {
        this.seq = seq;
        this.timeMillis = timeMillis;
        this.stage = stage;
        this.step = step;
        this.kind = kind;
        this.metrics = Map.copyOf(metrics);
    }

    public long seq() {
        return seq;
    }

    public long timeMillis() {
        return timeMillis;
    }

    public String stage() {
        return stage;
    }

    public long step() {
        return step;
    }

    public Kind kind() {
        return kind;
    }

    public Map<String, Double> metrics() {
        return metrics;
    }
}
