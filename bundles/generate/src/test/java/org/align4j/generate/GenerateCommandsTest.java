package org.align4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * The command end to end on a model folder written as a pretrain run writes it (a trained BPE tokenizer, seeded
 * random weights), with the services handed in directly instead of looked up in the registry.
 */
class GenerateCommandsTest {

    @TempDir
    static Path folder;
    static Tokenizer tokenizer;
    static final SafetensorsWeightStore STORE = new SafetensorsWeightStore();
    static final GeneratorImpl GENERATOR = new GeneratorImpl(new TransformerFactoryImpl(), STORE, null);
    static final List<String> LEASED = new ArrayList<>();

    /** Hands out the bpe factory and the mha kernel by name, as the registry would. */
    static final GenerateCommands.Lookup LOOKUP = new GenerateCommands.Lookup() {
        @Override
        public <S> GenerateCommands.Lease<S> lease(Class<S> type, String name) {
            Object service = type == TokenizerFactory.class && name.equals("bpe") ? new BpeTokenizerFactory()
                    : type == AttentionKernel.class && name.equals("mha") ? new StandardAttention() : null;
            LEASED.add(type.getSimpleName() + " " + name);
            return new GenerateCommands.Lease<>() {
                @Override
                public S service() {
                    return type.cast(service);
                }

                @Override
                public void close() {
                    LEASED.add("released " + name);
                }
            };
        }
    };

    @BeforeAll
    static void writeModelFolder() throws IOException {
        List<String> corpus = new ArrayList<>();
        for (int a = 0; a < 30; a++) {
            corpus.add(a + "+" + (a * 7 % 13) + "=" + (a + a * 7 % 13));
        }
        tokenizer = new BpeTokenizerFactory().train(corpus, Settings.of("test", Map.of("vocab", 300)), n -> { });
        ModelConfig config = ModelConfig.builder().vocabSize(tokenizer.vocabSize()).layers(1).dModel(16).heads(2)
                .context(48).initStd(0.5f).build();
        Map<String, TensorData> weights;
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, 3);
                weights = m.read(s);
            }
        }
        STORE.save(folder.resolve("model.safetensors"), weights, Map.of("format", "align4j"));
        STORE.saveConfig(folder.resolve("config.json"), config);
        tokenizer.save(folder.resolve("tokenizer.json"));
    }

    static String run(String... args) throws Exception {
        List<String> warnings = new ArrayList<>();
        String out = new GenerateCommands(LOOKUP, GENERATOR, STORE).execute(GenerateOptions.parse(List.of(args)),
                warnings::add);
        assertEquals(List.of(), warnings);
        return out;
    }

    @Test
    void printsThePromptAndItsGreedyContinuation() throws Exception {
        String out = run(folder.toString(), "12+", "--greedy", "--max-tokens", "6");
        int[] encoded = tokenizer.encode("12+");
        int[] prompt = new int[encoded.length + 1];
        prompt[0] = tokenizer.eosId();
        System.arraycopy(encoded, 0, prompt, 1, encoded.length);
        try (GenerationSession s = GENERATOR.openFolder(folder, new StandardAttention())) {
            Completion c = s.generate(List.of(prompt), GenerationSettings.builder().temperature(0).maxNewTokens(6)
                    .stopTokens(tokenizer.eosId()).build()).get(0).get(0);
            assertEquals("12+" + tokenizer.decode(c.tokens()) + "\n", out);
        }
        assertTrue(LEASED.contains("TokenizerFactory bpe") && LEASED.contains("AttentionKernel mha")
                && LEASED.contains("released bpe") && LEASED.contains("released mha"), LEASED.toString());
    }

    @Test
    void samplesAreHeadedAndReproducible() throws Exception {
        String a = run(folder.toString(), "3+", "--samples", "3", "--seed", "5", "--temperature", "1.5",
                "--max-tokens", "5");
        String b = run(folder.toString(), "3+", "--samples", "3", "--seed", "5", "--temperature", "1.5",
                "--max-tokens", "5");
        assertEquals(a, b);
        assertTrue(a.startsWith("--- sample 1 of 3 ("), a);
        assertTrue(a.contains("--- sample 3 of 3 ("), a);
    }

    @Test
    void aFolderWithoutATokenizerIsReported(@TempDir Path empty) throws IOException {
        Files.copy(folder.resolve("config.json"), empty.resolve("config.json"));
        IOException e = assertThrows(IOException.class, () -> run(empty.toString(), "x"));
        assertEquals(empty + ": no tokenizer.json in the model folder, so the prompt cannot be encoded (a pretrain"
                + " run writes it next to model.safetensors)", e.getMessage());
        e = assertThrows(IOException.class, () -> run(empty.resolve("nothing").toString(), "x"));
        assertTrue(e.getMessage().endsWith("nothing: no such model folder (it holds config.json,"
                + " model.safetensors and tokenizer.json, as a stage writes them to"
                + " <workdir>/stage-<i>-<trainer>/model)"),
                e.getMessage());
    }

    @Test
    void aFolderWithATokenizerButNoModelIsReported(@TempDir Path workdir) throws IOException {
        // a run's workdir holds tokenizer.json but not the model, which is under stage-<i>-<trainer>/model
        Files.copy(folder.resolve("tokenizer.json"), workdir.resolve("tokenizer.json"));
        IOException e = assertThrows(IOException.class, () -> run(workdir.toString(), "x", "--greedy"));
        assertEquals(workdir + ": no config.json in the model folder (a model folder holds config.json,"
                + " model.safetensors and tokenizer.json, as a stage writes them to"
                + " <workdir>/stage-<i>-<trainer>/model)", e.getMessage());
    }
}
