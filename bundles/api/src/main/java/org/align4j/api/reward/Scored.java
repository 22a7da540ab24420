package org.align4j.api.reward;

import java.util.Objects;

/**
 * The result of one leased call: the scores, the service that produced them (name, version, bundle: log them with
 * the metrics, so a swap shows) and how many attempts it took (1 when the first succeeded).
 */
public final class Scored {
    private final RewardScores scores;
    private final RewardModelInfo model;
    private final int attempts;

    public Scored(RewardScores scores, RewardModelInfo model, int attempts) {
        this.scores = Objects.requireNonNull(scores, "scores");
        this.model = Objects.requireNonNull(model, "model");
        this.attempts = attempts;
    }

    public RewardScores scores() {
        return scores;
    }

    /** The service that produced {@link #scores()}. */
    public RewardModelInfo model() {
        return model;
    }

    public int attempts() {
        return attempts;
    }
}
