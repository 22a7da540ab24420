package org.align4j.feedback;

import java.util.Locale;

import org.align4j.api.pipeline.Settings;

/**
 * The settings of a {@code feedback} stage:
 *
 * <pre>
 * init: stage-1                 # required: the policy that writes the completions (a model folder or an earlier stage)
 * task: arithmetic              # required: the Task whose verifier judges them
 * data: { ... }                 # prompt-completion examples: the prompts of the training split (completions and
 *                               # held-out prompts, validation_fraction, are not used)
 * samples: 4                    # K completions per prompt (2..256)
 * temperature: 1.0              # sampling temperature (&gt; 0: K greedy samples would all be the same)
 * top_k: 0                      # sample among the k most probable tokens only (0: all); keeps hot samples from
 * top_p: 1.0                    # turning into noise no annotator would be shown; top_p: nucleus share (1: all)
 * max_tokens: 64                # the most new tokens per completion (also capped by the model's context)
 * prompts: 200                  # how many of the data's prompts to use, from the first; default all
 * answer_bonus: 2.0             # partial credit of a right final answer (FeedbackRules)
 * pairs: credit                 # credit: every two answers with different partial credit; outcome: only a right
 *                               # final answer against a wrong one (as verifier-built preference data is made)
 * noise: { pairs: 0.1, ranks: 0.1, ratings: 0.1, steps: 0.1 }   # annotator noise rates (LabelNoise); default 0
 * heldout: 0.1                  # share of the questions (0..0.9; default 0) held out for evaluation (HeldOut): chosen
 *                               # by question and seed, their feedback goes WITHOUT noise into feedback/heldout/ (the
 *                               # same four files) and not into the training files; 0 writes no heldout/ folder
 * seed: 0                       # added to the run's seed (another draw of the same run)
 * </pre>
 */
final class FeedbackSettings {
    static final String[] KEYS = {"trainer", "init", "model", "data", "task", "samples", "temperature", "top_k",
            "top_p", "max_tokens", "prompts", "pairs", "answer_bonus", "noise", "heldout", "seed"};

    final int samples;
    final double temperature;
    final int topK;
    final double topP;
    final int maxTokens;
    /** {@link Integer#MAX_VALUE} when the stage takes all. */
    final int prompts;
    final double answerBonus;
    /** {@code pairs: outcome}. */
    final boolean outcomePairs;
    final LabelNoise noise;
    /** The share of questions held out, in [0, {@value HeldOut#MAX}]. */
    final double heldout;
    final long seedOffset;
    final String task;

    FeedbackSettings(Settings s) {
        s.checkKnown(KEYS);
        if (!s.has("task")) {
            throw s.error("task", "missing (required): feedback judges completions with a task's verifier; name"
                    + " one, e.g. task: arithmetic");
        }
        task = s.section("task").checkKnown("name").getString("name");
        if (!s.has("init")) {
            throw s.error("init", "missing (required): feedback samples completions from a trained policy; name"
                    + " it, e.g. init: stage-1 (an earlier stage) or init: runs/sft/model (a model folder)");
        }
        samples = s.getInt("samples", 4, 2, 256);
        temperature = s.getDouble("temperature", 1.0, 0.0, 100.0);
        if (!(temperature > 0)) {
            throw s.error("temperature", "is 0 (greedy): the " + samples + " samples of a prompt would all be the"
                    + " same and nothing could be compared; use a temperature > 0, e.g. 1.0");
        }
        topK = s.getInt("top_k", 0, 0, 1 << 20);
        topP = s.getDouble("top_p", 1.0, 0.0, 1.0);
        if (!(topP > 0)) {
            throw s.error("top_p", "is 0: no token would be left to sample; use a share in (0, 1], e.g. 0.9");
        }
        maxTokens = s.getInt("max_tokens", 64, 1, 1 << 16);
        prompts = s.has("prompts") ? s.getInt("prompts", 0, 1, Integer.MAX_VALUE) : Integer.MAX_VALUE;
        String pairs = s.getString("pairs", "credit");
        if (!pairs.equals("credit") && !pairs.equals("outcome")) {
            throw s.error("pairs", "expected credit (every two answers with different partial credit) or outcome"
                    + " (a right final answer against a wrong one), got \"" + pairs + "\"");
        }
        outcomePairs = pairs.equals("outcome");
        answerBonus = s.getDouble("answer_bonus", FeedbackRules.DEFAULT_ANSWER_BONUS, 0.0, 1e6);
        Settings n = s.section("noise").checkKnown("pairs", "ranks", "ratings", "steps");
        noise = new LabelNoise(n.getDouble("pairs", 0, 0, 1), n.getDouble("ranks", 0, 0, 1),
                n.getDouble("ratings", 0, 0, 1), n.getDouble("steps", 0, 0, 1));
        heldout = s.getDouble("heldout", 0, 0, HeldOut.MAX);
        seedOffset = s.getLong("seed", 0);
    }

    /**
     * What the files depend on besides the model and the prompts ({@code heldout} only when it is on, so that folders
     * written before the setting existed stay complete; so are {@code top_k}, {@code top_p} and {@code pairs}, each
     * only when set).
     */
    String fingerprint() {
        return String.format(Locale.ROOT, "samples=%d temperature=%s max_tokens=%d prompts=%d answer_bonus=%s %s"
                + " seed_offset=%d task=%s", samples, temperature, maxTokens, prompts, answerBonus, noise, seedOffset,
                task) + (heldout > 0 ? " heldout=" + heldout : "") + (topK > 0 ? " top_k=" + topK : "")
                + (topP < 1 ? " top_p=" + topP : "") + (outcomePairs ? " pairs=outcome" : "");
    }
}
