package org.align4j.best.of.n;

import java.util.Optional;

import org.align4j.api.pipeline.Settings;

/**
 * The settings of a {@code best-of-n} stage:
 *
 * <pre>
 * init: stage-1                    # the policy that samples (a model folder or an earlier stage)
 * data: { ... }                    # the prompts: prompt-completion examples (their completions are not used)
 * reward_model: arithmetic-rm      # the RewardModel that scores, by align4j.name (the newest version), or
 *                                  # { name: arithmetic-rm, version: 1 } to pin one; an ensemble is one by name too.
 *                                  # Looked up when the stage starts, not when the pipeline is checked (which is what
 *                                  # a stage key "reward" gets): an earlier stage of the run may deploy it
 * wait: 60                         # [60] seconds to wait for that reward model to be registered (a package-reward
 *                                  # stage with deploy: true registers it through deploy/ a moment before)
 * task: arithmetic                 # optional: a Task whose verifier judges the answers (the stage's figures)
 * samples: 8                       # N: completions sampled per prompt
 * temperature: 1.0
 * top_k: 0                         # [0: off]
 * top_p: 1.0                       # [1: off]
 * max_tokens: 64
 * </pre>
 * The best completion of each prompt is written to {@code best-of-n/best.jsonl} as prompt-completion examples
 * (rejection sampling), for a later SFT stage ({@code data: { from: stage-k, file: best.jsonl }}).
 */
final class BestOfNSettings {
    static final String[] KEYS = {"trainer", "init", "model", "data", "reward_model", "wait", "task", "samples",
        "temperature", "top_k", "top_p", "max_tokens"};

    final String reward;
    final Optional<String> version;
    final int waitSeconds;
    final String task;
    final int samples;
    final float temperature;
    final int topK;
    final float topP;
    final int maxTokens;

    BestOfNSettings(Settings s) {
        s.checkKnown(KEYS);
        if (!s.has("init")) {
            throw s.error("init", "missing (required): the policy that samples, e.g. init: stage-1");
        }
        if (!s.has("reward_model")) {
            throw s.error("reward_model", "missing (required): the reward model that picks the best completion, by"
                    + " name, e.g. reward_model: arithmetic-rm");
        }
        Settings r = s.section("reward_model").checkKnown("name", "version");
        reward = r.getString("name");
        version = Optional.ofNullable(r.getString("version", null));
        waitSeconds = s.getInt("wait", 60, 0, 3600);
        task = s.has("task") ? s.section("task").checkKnown("name").getString("name") : null;
        samples = s.getInt("samples", 8, 1, 1024);
        temperature = (float) s.getDouble("temperature", 1.0, 1e-3, 100);
        topK = s.getInt("top_k", 0, 0, 1 << 20);
        topP = (float) s.getDouble("top_p", 1.0, 1e-6, 1.0);
        maxTokens = s.getInt("max_tokens", 64, 1, 1 << 16);
    }
}
