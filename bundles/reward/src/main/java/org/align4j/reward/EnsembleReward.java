package org.align4j.reward;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.reward.Scored;

/**
 * A reward model that combines others: on each call it finds the reward models whose service properties match
 * {@code members} (an LDAP filter such as {@code (align4j.aspect=correctness)}), takes per member name the newest
 * matching version, leases each through {@link RewardModels} (with its timeout and retries), and combines their
 * scores element by element. Models named like the ensemble itself are never members.
 *
 * <pre>
 * mean             m = sum_j w_j s_j / sum_j w_j                  (w_j: the member's weight, 1 unless configured)
 * min              min_j s_j                                      (weights ignored)
 * mean-minus-std   m - k * sqrt(sum_j w_j (s_j - m)^2 / sum_j w_j)  (the weighted population deviation)
 * </pre>
 *
 * {@link RewardScores#members()} holds each member's scores by name, in the order combined; the ensemble gives no
 * step scores. {@code on_failure}: {@code fail} (a member that fails fails the call, with its message) or
 * {@code drop} (it is left out of this call, and the call fails only when every member failed). Members are called
 * one after another: the ensemble's own timeout (of whoever leases it) must cover theirs.
 */
final class EnsembleReward implements RewardModel {

    /** How members' scores combine. */
    enum Combine {
        MEAN("mean"), MIN("min"), MEAN_MINUS_STD("mean-minus-std");

        final String text;

        Combine(String text) {
            this.text = text;
        }

        static Combine parse(String s, String where) {
            for (Combine c : values()) {
                if (c.text.equals(s == null ? "" : s.trim().toLowerCase(Locale.ROOT))) {
                    return c;
                }
            }
            throw new IllegalArgumentException(where + ": expected mean, min or mean-minus-std, got \"" + s + "\"");
        }
    }

    private final RewardModels models;
    private final String name;
    private final String members;
    private final Combine combine;
    private final double k;
    private final Map<String, Double> weights;
    private final boolean dropFailed;
    private final Consumer<String> log;

    EnsembleReward(RewardModels models, String name, String members, Combine combine, double k,
            Map<String, Double> weights, boolean dropFailed, Consumer<String> log) {
        this.models = models;
        this.name = name;
        this.members = members;
        this.combine = combine;
        this.k = k;
        this.weights = Map.copyOf(weights);
        this.dropFailed = dropFailed;
        this.log = log;
        models.models(members); // fails now on a filter that is not LDAP syntax
        for (Map.Entry<String, Double> w : weights.entrySet()) {
            if (!(w.getValue() >= 0) || Double.isInfinite(w.getValue())) {
                throw new IllegalArgumentException("ensemble \"" + name + "\": weights: \"" + w.getKey()
                        + "\": expected a weight of 0 or more, got " + w.getValue());
            }
        }
    }

    /** Reads {@code name=weight} entries (a comma-separated string is also split). */
    static Map<String, Double> weights(String[] entries, String where) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String entry : entries == null ? new String[0] : entries) {
            for (String part : entry.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                double w = Double.NaN;
                if (eq > 0) {
                    try {
                        w = Double.parseDouble(part.substring(eq + 1).trim());
                    } catch (NumberFormatException e) {
                        w = Double.NaN;
                    }
                }
                if (Double.isNaN(w)) {
                    throw new IllegalArgumentException(where + ": expected entries like helpful=2, got \""
                            + part.trim() + "\"");
                }
                out.put(part.substring(0, eq).trim(), w);
            }
        }
        return out;
    }

    @Override
    public RewardScores score(List<PromptCompletion> batch) throws Exception {
        return combine(batch.size(), lease -> lease.score(batch));
    }

    @Override
    public RewardScores scoreTokens(List<int[]> prompts, List<int[]> completions) throws Exception {
        return combine(prompts.size(), lease -> lease.scoreTokens(prompts, completions));
    }

    private interface Call {
        Scored on(RewardModels.Lease lease) throws RewardModelException, InterruptedException;
    }

    private RewardScores combine(int size, Call call) throws RewardModelException, InterruptedException {
        Map<String, RewardModelInfo> chosen = new LinkedHashMap<>();
        for (RewardModelInfo info : models.models(members)) {
            if (!info.name().equals(name)) {
                chosen.putIfAbsent(info.name(), info); // newest first within a name
            }
        }
        if (chosen.isEmpty()) {
            List<String> all = new ArrayList<>();
            models.models(null).forEach(i -> all.add(i.toString()));
            throw new RewardModelException("ensemble \"" + name + "\": no reward model matches members " + members
                    + " (registered: " + (all.isEmpty() ? "none" : String.join(", ", all)) + ")");
        }
        Map<String, float[]> scores = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        for (RewardModelInfo info : chosen.values()) {
            try {
                Scored s = call.on(models.lease(info.name(), Optional.of(info.version())));
                scores.put(info.name(), s.scores().scores());
            } catch (RewardModelException e) {
                if (!dropFailed) {
                    throw new RewardModelException("ensemble \"" + name + "\": member " + info + " failed: "
                            + e.getMessage(), e.model().orElse(info), e);
                }
                failures.add(e.getMessage());
                log.accept("ensemble \"" + name + "\": dropped member " + info + " for this batch: " + e.getMessage());
            }
        }
        if (scores.isEmpty()) {
            throw new RewardModelException("ensemble \"" + name + "\": every member failed: "
                    + String.join("; ", failures));
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) combine(i, scores);
        }
        return RewardScores.withMembers(out, scores);
    }

    private double combine(int i, Map<String, float[]> scores) {
        if (combine == Combine.MIN) {
            double min = Double.POSITIVE_INFINITY;
            for (float[] s : scores.values()) {
                min = Math.min(min, s[i]);
            }
            return min;
        }
        double sw = 0;
        double sum = 0;
        for (Map.Entry<String, float[]> e : scores.entrySet()) {
            double w = weights.getOrDefault(e.getKey(), 1.0);
            sw += w;
            sum += w * e.getValue()[i];
        }
        if (sw == 0) {
            throw new IllegalStateException("ensemble \"" + name + "\": the weights of the members "
                    + scores.keySet() + " sum to 0; give at least one a positive weight");
        }
        double mean = sum / sw;
        if (combine == Combine.MEAN) {
            return mean;
        }
        double var = 0;
        for (Map.Entry<String, float[]> e : scores.entrySet()) {
            double d = e.getValue()[i] - mean;
            var += weights.getOrDefault(e.getKey(), 1.0) * d * d;
        }
        return mean - k * Math.sqrt(var / sw);
    }
}
