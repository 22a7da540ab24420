package org.align4j.trainer.pretrain;

import org.align4j.api.pipeline.Settings;

/**
 * The settings of a {@code pretrain} stage (one {@code stages[i]} section of a pipeline file):
 *
 * <pre>
 * - trainer: pretrain
 *   loss: causal-lm                      # a LanguageModelLoss service
 *   optimizer: { name: adamw, lr: 1.0e-3, weight_decay: 0.1, warmup: 50, schedule: cosine, clip_norm: 1.0 }
 *   steps: 600                           # optimizer steps
 *   batch: 16                            # blocks of model.context tokens per step
 *   log_every: 10                        # steps between STEP events (1 = every step)
 *   eval: { every: 100, batches: 8 }     # validation loss/perplexity every N steps (0 = only at the end)
 *   checkpoint: { every: 100, keep: 3 }  # 0 = only when stopped and at the end
 *   sample: { count: 3, max_tokens: 40, temperature: 0.8, prompts: ["12+"] }
 * </pre>
 */
final class PretrainSettings {
    final int steps;
    final int batch;
    final int logEvery;
    final int evalEvery;
    final int evalBatches;
    final int checkpointEvery;
    final int checkpointKeep;
    final int sampleCount;
    final int sampleMaxTokens;
    final double sampleTemperature;
    final java.util.List<String> samplePrompts;
    final Settings optimizer;
    final String scheduleName;

    PretrainSettings(Settings s) {
        s.checkKnown("trainer", "loss", "optimizer", "steps", "batch", "log_every", "eval", "checkpoint", "sample");
        steps = s.getInt("steps", 1000, 1, Integer.MAX_VALUE);
        batch = s.getInt("batch", 16, 1, 1 << 16);
        logEvery = s.getInt("log_every", 1, 1, Integer.MAX_VALUE);
        Settings eval = s.section("eval").checkKnown("every", "batches");
        evalEvery = eval.getInt("every", 0, 0, Integer.MAX_VALUE);
        evalBatches = eval.getInt("batches", 16, 1, 1 << 20);
        Settings ckpt = s.section("checkpoint").checkKnown("every", "keep");
        checkpointEvery = ckpt.getInt("every", 0, 0, Integer.MAX_VALUE);
        checkpointKeep = ckpt.getInt("keep", 3, 1, 1000);
        Settings sample = s.section("sample").checkKnown("count", "max_tokens", "temperature", "prompts");
        sampleCount = sample.getInt("count", 0, 0, 1000);
        sampleMaxTokens = sample.getInt("max_tokens", 32, 1, 1 << 16);
        sampleTemperature = sample.getDouble("temperature", 0.8, 0.0, 100.0);
        java.util.List<String> prompts = new java.util.ArrayList<>();
        Object p = sample.asMap().get("prompts");
        if (p instanceof java.util.List) {
            for (Object o : (java.util.List<?>) p) {
                prompts.add(String.valueOf(o));
            }
        } else if (p != null) {
            throw sample.error("prompts", "expected a list of strings");
        }
        samplePrompts = java.util.List.copyOf(prompts);
        optimizer = s.section("optimizer");
        if (!optimizer.has("name")) {
            throw optimizer.error("name", "missing (required): which optimizer, e.g. adamw");
        }
        scheduleName = optimizer.getString("schedule", "cosine");
    }
}
