package org.align4j.trainer.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class PretrainSettingsTest {

    @Test
    void defaultsAndValues() {
        Settings s = Settings.of("p.yaml", Map.of("trainer", "pretrain", "steps", 50, "batch", 4,
                "optimizer", Map.of("name", "adamw", "lr", 1e-3),
                "eval", Map.of("every", 10), "sample", Map.of("count", 2, "prompts", List.of("1+"))));
        PretrainSettings p = new PretrainSettings(s);
        assertEquals(50, p.steps);
        assertEquals(4, p.batch);
        assertEquals(10, p.evalEvery);
        assertEquals(16, p.evalBatches);
        assertEquals(0, p.checkpointEvery);
        assertEquals(3, p.checkpointKeep);
        assertEquals(List.of("1+"), p.samplePrompts);
        assertEquals("cosine", p.scheduleName);
    }

    @Test
    void errorsNameFileAndKey() {
        SettingsException unknown = assertThrows(SettingsException.class, () -> new PretrainSettings(
                Settings.of("p.yaml", Map.of("trainer", "pretrain", "stpes", 5, "optimizer", Map.of("name", "sgd")))));
        assertEquals("p.yaml: stpes: unknown setting (accepted here: trainer, init, model, data, steps, batch,"
                + " log_every, eval, checkpoint, optimizer, loss, sample)", unknown.getMessage());
        SettingsException range = assertThrows(SettingsException.class, () -> new PretrainSettings(
                Settings.of("p.yaml", Map.of("batch", 0, "optimizer", Map.of("name", "sgd")))));
        assertEquals("p.yaml: batch: expected a whole number in [1, 65536], got 0", range.getMessage());
        SettingsException noOptimizer = assertThrows(SettingsException.class,
                () -> new PretrainSettings(Settings.of("p.yaml", Map.of("steps", 5))));
        assertEquals("p.yaml: optimizer.name: missing (required): which optimizer, e.g. adamw",
                noOptimizer.getMessage());
    }
}
