package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.model.SafetensorsWeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StageModelsTest {
    static final SafetensorsWeightStore WEIGHTS = new SafetensorsWeightStore();

    @TempDir
    Path tmp;

    static Map<String, Object> stage(Map<String, Object> model) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("trainer", "tiny");
        s.put("model", model);
        return s;
    }

    /** A model folder with {@code config}; a tokenizer.json holding {@code tokenizerJson} unless null. */
    Path folder(ModelConfig config, String tokenizerJson) throws Exception {
        Path f = Files.createDirectories(tmp.resolve("stage-0/model"));
        WEIGHTS.saveConfig(f.resolve("config.json"), config);
        if (tokenizerJson != null) {
            Files.write(f.resolve("tokenizer.json"), tokenizerJson.getBytes(StandardCharsets.UTF_8));
        }
        return f;
    }

    /** What {@link TestContext.CharTokenizer#save} writes. */
    static String ours() throws Exception {
        Path p = Files.createTempFile("tok", ".json");
        try {
            new TestContext.CharTokenizer().save(p);
            return Files.readString(p);
        } finally {
            Files.delete(p);
        }
    }

    TestContext ctx(Map<String, Object> model, Path init) throws Exception {
        TestContext c = new TestContext(Files.createDirectories(tmp.resolve("work")), 1, stage(model));
        c.init = init;
        return c;
    }

    @Test
    void withoutInitTheRunsModelSectionWithTheTokenizersVocabulary() throws Exception {
        ModelConfig c = StageModels.policyConfig(ctx(Map.of("layers", 2, "d_model", 32, "context", 16), null),
                WEIGHTS);
        assertEquals(20, c.vocabSize(), "the tokenizer's");
        assertEquals(2, c.layers());
        assertEquals(32, c.dModel());
        assertEquals(16, c.context());
        assertEquals(24, StageModels.policyConfig(ctx(Map.of("vocab_size", 24), null), WEIGHTS).vocabSize(),
                "a larger vocabulary may be set");
        SettingsException small = assertThrows(SettingsException.class,
                () -> StageModels.policyConfig(ctx(Map.of("vocab_size", 12), null), WEIGHTS));
        assertTrue(small.getMessage().contains("vocab_size") && small.getMessage().contains("20"),
                small.getMessage());
    }

    @Test
    void withInitTheFoldersConfigAfterCheckingKernelVocabularyAndTokenizer() throws Exception {
        ModelConfig saved = TinyMethod.CONFIG.toBuilder().layers(3).build();
        Path f = folder(saved, ours());
        assertEquals(saved, StageModels.policyConfig(ctx(Map.of("layers", 1), f), WEIGHTS),
                "the folder's shape wins over the run's model section");

        Path noConfig = Files.createDirectories(tmp.resolve("empty"));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> StageModels.policyConfig(ctx(Map.of(), noConfig), WEIGHTS));
        assertTrue(missing.getMessage().startsWith(noConfig + ": no config.json"), missing.getMessage());

        IllegalStateException kernel = assertThrows(IllegalStateException.class,
                () -> StageModels.policyConfig(ctx(Map.of("attention", "gqa"), f), WEIGHTS));
        assertTrue(kernel.getMessage().contains("\"mha\"") && kernel.getMessage().contains("\"gqa\"")
                && kernel.getMessage().contains("model.attention: mha"), kernel.getMessage());
    }

    @Test
    void aFolderTrainedWithAnotherTokenizerIsRefused() throws Exception {
        Path other = folder(TinyMethod.CONFIG, "{\"type\": \"other\"}");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> StageModels.policyConfig(ctx(Map.of(), other), WEIGHTS));
        assertTrue(e.getMessage().contains("another tokenizer") && e.getMessage().contains("tokenizer.json"),
                e.getMessage());
        try (var files = Files.list(tmp.resolve("work"))) {
            assertEquals(0, files.count(), "the temporary copy of the run's tokenizer is removed");
        }
    }

    @Test
    void aFolderWithFewerTokenIdsThanTheTokenizerIsRefused() throws Exception {
        Path small = folder(TinyMethod.CONFIG.toBuilder().vocabSize(10).build(), null);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> StageModels.policyConfig(ctx(Map.of(), small), WEIGHTS));
        assertTrue(e.getMessage().contains("10 token ids") && e.getMessage().contains("20"), e.getMessage());
    }
}
