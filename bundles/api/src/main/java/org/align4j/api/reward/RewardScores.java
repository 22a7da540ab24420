package org.align4j.api.reward;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link RewardModel} returns for a batch (immutable; the arrays are copied in and out):
 * <ul>
 * <li>{@link #scores()}: one outcome score per element;</li>
 * <li>{@link #steps()}: for a process model, one array of step scores per element (its length is that element's
 * number of steps); empty for an outcome model;</li>
 * <li>{@link #members()}: for an ensemble, each member's outcome scores by member name, in the order the members were
 * combined; empty otherwise.</li>
 * </ul>
 */
public final class RewardScores {
    private final float[] scores;
    private final List<float[]> steps;
    private final Map<String, float[]> members;

    private RewardScores(float[] scores, List<float[]> steps, Map<String, float[]> members) {
        this.scores = Objects.requireNonNull(scores, "scores").clone();
        if (steps != null) {
            if (steps.size() != scores.length) {
                throw new IllegalArgumentException(steps.size() + " step-score arrays for " + scores.length
                        + " scores: give one per element");
            }
            List<float[]> copy = new ArrayList<>();
            for (float[] s : steps) {
                copy.add(Objects.requireNonNull(s, "steps").clone());
            }
            this.steps = Collections.unmodifiableList(copy);
        } else {
            this.steps = null;
        }
        Map<String, float[]> m = new LinkedHashMap<>();
        members.forEach((k, v) -> {
            if (v.length != scores.length) {
                throw new IllegalArgumentException("member \"" + k + "\": " + v.length + " scores for "
                        + scores.length + " elements");
            }
            m.put(k, v.clone());
        });
        this.members = Collections.unmodifiableMap(m);
    }

    /** Outcome scores only. */
    public static RewardScores of(float... scores) {
        return new RewardScores(scores, null, Map.of());
    }

    /** Outcome scores with the step scores of a process model, one array per element. */
    public static RewardScores withSteps(float[] scores, List<float[]> steps) {
        return new RewardScores(scores, Objects.requireNonNull(steps, "steps"), Map.of());
    }

    /** An ensemble's combined scores with each member's scores (by member name, each one per element). */
    public static RewardScores withMembers(float[] scores, Map<String, float[]> members) {
        return new RewardScores(scores, null, Objects.requireNonNull(members, "members"));
    }

    /** @return one outcome score per element (a copy) */
    public float[] scores() {
        return scores.clone();
    }

    /** The number of elements scored. */
    public int size() {
        return scores.length;
    }

    /** @return per-step scores, one array per element (copies), when the model scores steps */
    public Optional<List<float[]>> steps() {
        if (steps == null) {
            return Optional.empty();
        }
        List<float[]> out = new ArrayList<>();
        for (float[] s : steps) {
            out.add(s.clone());
        }
        return Optional.of(Collections.unmodifiableList(out));
    }

    /** @return an ensemble's member scores by member name (copies); empty for a single model */
    public Map<String, float[]> members() {
        Map<String, float[]> out = new LinkedHashMap<>();
        members.forEach((k, v) -> out.put(k, v.clone()));
        return Collections.unmodifiableMap(out);
    }
}
