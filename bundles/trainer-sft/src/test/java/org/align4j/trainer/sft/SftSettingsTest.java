package org.align4j.trainer.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.tokenizer.ChatTemplate;
import org.junit.jupiter.api.Test;

class SftSettingsTest {

    /** {@code stages[1]} of {@code sft.yaml}: a minimal sft stage plus {@code extra} (key, value, ...). */
    static Settings stage(Object... extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trainer", "sft");
        m.put("optimizer", Map.of("name", "adamw", "lr", 5e-4));
        for (int i = 0; i < extra.length; i += 2) {
            m.put((String) extra[i], extra[i + 1]);
        }
        return Settings.of("sft.yaml", Map.of("stages", List.of(Map.of("trainer", "pretrain"), m)))
                .sections("stages").get(1);
    }

    static SettingsException fails(Settings s) {
        return assertThrows(SettingsException.class, () -> new SftSettings(s));
    }

    @Test
    void defaults() {
        SftSettings s = new SftSettings(stage());
        assertEquals(200, s.exactMatchSamples);
        assertEquals(64, s.exactMatchMaxTokens);
        assertEquals(3, s.sampleCount);
        assertSame(ChatTemplate.DEFAULT, s.chat);
        assertEquals(1000, s.loop.steps);
        assertEquals(16, s.loop.batch);
    }

    @Test
    void readsItsOwnKeysAndTheLoops() {
        SftSettings s = new SftSettings(stage("loss", "causal-lm", "task", "arithmetic", "init", "stage-0",
                "exact_match", Map.of("samples", 0, "max_tokens", 48), "sample", Map.of("count", 0), "steps", 400,
                "eval", Map.of("every", 100, "at_start", true),
                "chat_template", Map.of("end", "<|stop|>", "after_end", "")));
        assertEquals(0, s.exactMatchSamples);
        assertEquals(48, s.exactMatchMaxTokens);
        assertEquals(0, s.sampleCount);
        assertEquals(400, s.loop.steps);
        assertTrue(s.loop.evalAtStart);
        assertEquals("<|stop|>", s.chat.markers().get("end"));
        assertEquals("", s.chat.afterEnd());
        assertEquals("\n", s.chat.afterMarker());
    }

    @Test
    void unknownKeysAreNamedWithFileAndPath() {
        Object[][] bad = {
            {"exact_matches", Map.of("samples", 1), "stages[1].exact_matches"},
            {"exact_match", Map.of("sample", 1), "stages[1].exact_match.sample"},
            {"sample", Map.of("counts", 1), "stages[1].sample.counts"},
            {"chat_template", Map.of("assistent", "<|assistant|>"), "stages[1].chat_template.assistent"},
            {"beta", 0.1, "stages[1].beta"},
        };
        for (Object[] b : bad) {
            SettingsException e = fails(stage(b[0], b[1]));
            assertEquals(b[2], e.key(), e.getMessage());
            assertTrue(e.getMessage().startsWith("sft.yaml: " + b[2] + ": unknown setting"), e.getMessage());
        }
    }

    @Test
    void exactMatchRanges() {
        Object[][] bad = {
            {Map.of("samples", -1), "stages[1].exact_match.samples"},
            {Map.of("samples", (1 << 20) + 1), "stages[1].exact_match.samples"},
            {Map.of("max_tokens", 0), "stages[1].exact_match.max_tokens"},
            {Map.of("max_tokens", (1 << 16) + 1), "stages[1].exact_match.max_tokens"},
            {Map.of("samples", "all"), "stages[1].exact_match.samples"},
        };
        for (Object[] b : bad) {
            SettingsException e = fails(stage("exact_match", b[0]));
            assertEquals(b[1], e.key(), e.getMessage());
            assertTrue(e.getMessage().startsWith("sft.yaml: " + b[1] + ": "), e.getMessage());
        }
        SftSettings edges = new SftSettings(stage("exact_match", Map.of("samples", 1 << 20, "max_tokens", 1)));
        assertEquals(1 << 20, edges.exactMatchSamples);
        assertEquals(1, edges.exactMatchMaxTokens);
        assertEquals(1 << 16,
                new SftSettings(stage("exact_match", Map.of("max_tokens", 1 << 16))).exactMatchMaxTokens);
        assertEquals("stages[1].sample.count", fails(stage("sample", Map.of("count", 1001))).key());
        assertEquals("stages[1].sample.count", fails(stage("sample", Map.of("count", -1))).key());
    }

    @Test
    void aBadChatTemplateIsNamed() {
        SettingsException e = fails(stage("chat_template", Map.of("user", "<|assistant|>")));
        assertEquals("stages[1].chat_template.assistant", e.key(), e.getMessage());
        SettingsException empty = fails(stage("chat_template", Map.of("end", "")));
        assertEquals("stages[1].chat_template.end", empty.key(), empty.getMessage());
    }
}
