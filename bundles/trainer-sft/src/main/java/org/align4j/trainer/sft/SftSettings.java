package org.align4j.trainer.sft;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.training.LoopSettings;

/**
 * The settings of an {@code sft} stage: the loop's keys ({@link LoopSettings}) plus
 *
 * <pre>
 * loss: causal-lm                       # a LanguageModelLoss service; counts only completion tokens
 * task: arithmetic                      # optional: a Task whose verifier judges generated answers
 * exact_match: { samples: 200, max_tokens: 64 }   # held-out examples answered greedily at each evaluation
 * chat_template: { ... }                # for conversational data (ChatTemplate's keys); default template otherwise
 * sample: { count: 3 }                  # held-out answers printed at the end
 * </pre>
 */
final class SftSettings {
    final LoopSettings loop;
    final int exactMatchSamples;
    final int exactMatchMaxTokens;
    final ChatTemplate chat;
    final int sampleCount;

    SftSettings(Settings s) {
        loop = new LoopSettings(s, "loss", "task", "exact_match", "chat_template", "sample");
        Settings em = s.section("exact_match").checkKnown("samples", "max_tokens");
        exactMatchSamples = em.getInt("samples", 200, 0, 1 << 20);
        exactMatchMaxTokens = em.getInt("max_tokens", 64, 1, 1 << 16);
        chat = s.has("chat_template") ? ChatTemplate.of(s.section("chat_template")) : ChatTemplate.DEFAULT;
        Settings sample = s.section("sample").checkKnown("count");
        sampleCount = sample.getInt("count", 3, 0, 1000);
    }
}
