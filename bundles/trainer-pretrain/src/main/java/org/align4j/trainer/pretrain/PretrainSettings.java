package org.align4j.trainer.pretrain;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.pipeline.Settings;
import org.align4j.training.LoopSettings;

/**
 * The settings of a {@code pretrain} stage (one {@code stages[i]} section of a pipeline file): the loop's keys
 * ({@link LoopSettings}) plus {@code loss} and {@code sample}:
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
    final LoopSettings loop;
    final int steps;
    final int batch;
    final int evalBatches;
    final int evalEvery;
    final int checkpointEvery;
    final int checkpointKeep;
    final String scheduleName;
    final int sampleCount;
    final int sampleMaxTokens;
    final double sampleTemperature;
    final List<String> samplePrompts;

    PretrainSettings(Settings s) {
        loop = new LoopSettings(s, "loss", "sample");
        steps = loop.steps;
        batch = loop.batch;
        evalBatches = loop.evalBatches;
        evalEvery = loop.evalEvery;
        checkpointEvery = loop.checkpointEvery;
        checkpointKeep = loop.checkpointKeep;
        scheduleName = loop.scheduleName;
        Settings sample = s.section("sample").checkKnown("count", "max_tokens", "temperature", "prompts");
        sampleCount = sample.getInt("count", 0, 0, 1000);
        sampleMaxTokens = sample.getInt("max_tokens", 32, 1, 1 << 16);
        sampleTemperature = sample.getDouble("temperature", 0.8, 0.0, 100.0);
        List<String> prompts = new ArrayList<>();
        Object p = sample.asMap().get("prompts");
        if (p instanceof List) {
            for (Object o : (List<?>) p) {
                prompts.add(String.valueOf(o));
            }
        } else if (p != null) {
            throw sample.error("prompts", "expected a list of strings");
        }
        samplePrompts = List.copyOf(prompts);
    }
}
