package org.align4j.trainer.dpo;

import org.align4j.api.pipeline.Settings;
import org.align4j.training.LoopSettings;

/**
 * The settings of a {@code dpo} stage: the loop's keys ({@link LoopSettings}) plus
 *
 * <pre>
 * loss: dpo                        # a PreferenceLoss: dpo, ipo, dpo-hinge, robust-dpo, dpop (and its own options)
 * beta: 0.1                        # the strength of the implicit KL constraint to the reference
 * reference_logps: precompute      # precompute: the reference's log-probabilities of every pair, once, before the
 *                                  # first step (one frozen forward pass over the data; none per step); per-batch:
 *                                  # a reference forward pass in every step
 * rpo_alpha: 0                     # > 0: add this times the chosen answers' negative log-likelihood per token
 *                                  # (RPO; TRL's rpo_alpha): the chosen answers are kept likely, not only preferred
 * compare: completions             # completions: each pair's whole completions; first-different-line: each
 *                                  # completion up to the end of the line where the two first part (the first step
 *                                  # that differs, not the lines that follow from it)
 * task: arithmetic                 # optional: a Task whose verifier judges the held-out answers
 * exact_match: { samples: 200, max_tokens: 64 }   # held-out prompts answered greedily at each evaluation
 * </pre>
 */
final class DpoSettings {
    final LoopSettings loop;
    final float beta;
    final boolean precompute;
    final boolean firstDifferentLine;
    final float rpoAlpha;
    final int exactMatchSamples;
    final int exactMatchMaxTokens;

    DpoSettings(Settings s) {
        loop = new LoopSettings(s, "loss", "beta", "reference_logps", "rpo_alpha", "compare", "task", "exact_match");
        beta = (float) s.getDouble("beta", 0.1, 1e-6, 1e6);
        String ref = s.getString("reference_logps", "precompute");
        if (!ref.equals("precompute") && !ref.equals("per-batch")) {
            throw s.error("reference_logps", "expected precompute (once, before the first step) or per-batch, got \""
                    + ref + "\"");
        }
        precompute = ref.equals("precompute");
        rpoAlpha = (float) s.getDouble("rpo_alpha", 0.0, 0.0, 1e6);
        String compare = s.getString("compare", "completions");
        if (!compare.equals("completions") && !compare.equals("first-different-line")) {
            throw s.error("compare", "expected completions (each pair's whole completions) or first-different-line"
                    + " (each up to the end of the line where the two first part), got \"" + compare + "\"");
        }
        firstDifferentLine = compare.equals("first-different-line");
        Settings em = s.section("exact_match").checkKnown("samples", "max_tokens");
        exactMatchSamples = em.getInt("samples", 200, 0, 1 << 20);
        exactMatchMaxTokens = em.getInt("max_tokens", 64, 1, 1 << 16);
    }
}
