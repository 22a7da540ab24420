package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class LoopSettingsTest {

    /** {@code stages[0]} of a pipeline file {@code run.yaml} holding {@code stage}. */
    static Settings stage(Map<String, Object> stage) {
        return Settings.of("run.yaml", Map.of("stages", List.of(stage))).sections("stages").get(0);
    }

    /** A minimal stage plus {@code extra} (key, value, key, value, ...). */
    static Settings stage(Object... extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trainer", "sft");
        m.put("optimizer", Map.of("name", "adamw"));
        for (int i = 0; i < extra.length; i += 2) {
            m.put((String) extra[i], extra[i + 1]);
        }
        return stage(m);
    }

    static SettingsException fails(Settings s, String... methodKeys) {
        return assertThrows(SettingsException.class, () -> new LoopSettings(s, methodKeys));
    }

    @Test
    void defaults() {
        LoopSettings s = new LoopSettings(stage());
        assertEquals(1000, s.steps);
        assertEquals(16, s.batch);
        assertEquals(1, s.logEvery);
        assertEquals(0, s.evalEvery);
        assertEquals(16, s.evalBatches);
        assertFalse(s.evalAtStart);
        assertEquals(0, s.checkpointEvery);
        assertEquals(3, s.checkpointKeep);
        assertEquals("cosine", s.scheduleName);
        assertEquals("adamw", s.optimizer.getString("name"));
        assertEquals("stages[0].optimizer", s.optimizer.path());
    }

    @Test
    void readsWhatIsSet() {
        LoopSettings s = new LoopSettings(stage("steps", 600, "batch", "8", "log_every", 10,
                "eval", Map.of("every", 100, "batches", 4, "at_start", true),
                "checkpoint", Map.of("every", 50, "keep", 1),
                "optimizer", Map.of("name", "sgd", "lr", 0.1, "schedule", "constant")));
        assertEquals(600, s.steps);
        assertEquals(8, s.batch);
        assertEquals(10, s.logEvery);
        assertEquals(100, s.evalEvery);
        assertEquals(4, s.evalBatches);
        assertTrue(s.evalAtStart);
        assertEquals(50, s.checkpointEvery);
        assertEquals(1, s.checkpointKeep);
        assertEquals("constant", s.scheduleName);
        assertEquals(0.1, s.optimizer.getDouble("lr"));
    }

    @Test
    void evalAtStartAcceptsYamlBooleansAndRejectsOthers() {
        assertTrue(new LoopSettings(stage("eval", Map.of("at_start", "yes"))).evalAtStart);
        assertFalse(new LoopSettings(stage("eval", Map.of("at_start", false))).evalAtStart);
        SettingsException e = fails(stage("eval", Map.of("at_start", "sometimes")));
        assertTrue(e.getMessage().startsWith("run.yaml: stages[0].eval.at_start: "), e.getMessage());
        assertTrue(e.getMessage().contains("\"sometimes\""), e.getMessage());
    }

    @Test
    void anUnknownKeyIsNamedWithItsFileAndPath() {
        SettingsException top = fails(stage("stepz", 10));
        assertEquals("run.yaml", top.source());
        assertEquals("stages[0].stepz", top.key());
        assertTrue(top.getMessage().startsWith("run.yaml: stages[0].stepz: unknown setting"), top.getMessage());
        assertTrue(top.getMessage().contains("steps"), "lists what is accepted: " + top.getMessage());

        assertEquals("stages[0].eval.evry", fails(stage("eval", Map.of("evry", 5))).key());
        assertEquals("stages[0].checkpoint.keeps", fails(stage("checkpoint", Map.of("keeps", 5))).key());
    }

    @Test
    void aMethodsOwnKeysAreAcceptedOnlyWhenItNamesThem() {
        assertEquals("stages[0].beta", fails(stage("beta", 0.1)).key());
        assertEquals(7, new LoopSettings(stage("beta", 0.1, "steps", 7), "beta").steps);
        // the pipeline's own keys are always accepted
        new LoopSettings(stage("init", "stage-0", "model", Map.of("context", 16), "data", Map.of("train", "x")));
    }

    @Test
    void rangesAreChecked() {
        Object[][] bad = {
            {"steps", 0, "stages[0].steps"},
            {"batch", 0, "stages[0].batch"},
            {"batch", (1 << 16) + 1, "stages[0].batch"},
            {"log_every", 0, "stages[0].log_every"},
            {"eval", Map.of("every", -1), "stages[0].eval.every"},
            {"eval", Map.of("batches", 0), "stages[0].eval.batches"},
            {"checkpoint", Map.of("every", -5), "stages[0].checkpoint.every"},
            {"checkpoint", Map.of("keep", 0), "stages[0].checkpoint.keep"},
            {"checkpoint", Map.of("keep", 1001), "stages[0].checkpoint.keep"},
            {"steps", 2.5, "stages[0].steps"},
            {"steps", "many", "stages[0].steps"},
        };
        for (Object[] b : bad) {
            SettingsException e = fails(stage(b[0], b[1]));
            assertEquals(b[2], e.key(), e.getMessage());
            assertTrue(e.getMessage().startsWith("run.yaml: " + b[2] + ": "), e.getMessage());
        }
        // the edges are accepted
        assertEquals(1 << 16, new LoopSettings(stage("batch", 1 << 16)).batch);
        assertEquals(1000, new LoopSettings(stage("checkpoint", Map.of("keep", 1000))).checkpointKeep);
        assertEquals(1, new LoopSettings(stage("steps", 1)).steps);
    }

    @Test
    void theOptimizerNeedsAName() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trainer", "sft");
        m.put("optimizer", Map.of("lr", 0.1));
        SettingsException e = fails(stage(m));
        assertEquals("stages[0].optimizer.name", e.key());
        assertTrue(e.getMessage().contains("adamw"), "says what to write: " + e.getMessage());
        m.remove("optimizer");
        assertEquals("stages[0].optimizer.name", fails(stage(m)).key());
        // a plain string is the optimizer's name
        m.put("optimizer", "sgd");
        assertEquals("sgd", new LoopSettings(stage(m)).optimizer.getString("name"));
    }
}
