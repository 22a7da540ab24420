package org.align4j.reward;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/** Tiny seeded reward-model folders written with the real model, weights store and tokenizer. */
final class TinyModels {
    static final Tokenizer TOKENIZER;

    static {
        List<String> corpus = new ArrayList<>();
        for (int a = 0; a < 30; a++) {
            corpus.add("Q: " + a + "+" + (a * 7 % 13) + "=?\n1. " + a + "+" + (a * 7 % 13) + "=" + (a + a * 7 % 13));
        }
        TOKENIZER = new BpeTokenizerFactory().train(corpus, Settings.of("test", Map.of("vocab", 300)), n -> { });
    }

    private TinyModels() {
    }

    static ModelConfig config(int classes) {
        return ModelConfig.builder().vocabSize(TOKENIZER.vocabSize()).layers(1).dModel(16).heads(2).context(64)
                .initStd(0.5f).classes(classes).build();
    }

    /** Seeded weights under the prefix a reward stage writes ({@code reward.}). */
    static Map<String, TensorData> weights(ModelConfig config, long seed) {
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "reward.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                return m.read(s);
            }
        }
    }

    /** Writes config.json, model.safetensors and tokenizer.json into {@code folder}. */
    static Path write(Path folder, ModelConfig config, long seed) throws IOException {
        return write(folder, config, weights(config, seed));
    }

    /** Writes config.json, these weights and tokenizer.json into {@code folder}. */
    static Path write(Path folder, ModelConfig config, Map<String, TensorData> weights) throws IOException {
        Files.createDirectories(folder);
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        store.saveConfig(folder.resolve(LearnedRewardModel.CONFIG), config);
        store.save(folder.resolve(LearnedRewardModel.WEIGHTS), weights, Map.of());
        TOKENIZER.save(folder.resolve(LearnedRewardModel.TOKENIZER));
        return folder;
    }

    /** The parts a learned model needs, on the plain class path. */
    static final LearnedRewardModel.Parts PARTS = new LearnedRewardModel.Parts() {
        @Override
        public TransformerFactory transformers() {
            return new TransformerFactoryImpl();
        }

        @Override
        public WeightStore weights() {
            return new SafetensorsWeightStore();
        }

        @Override
        public TensorFlowRuntime runtime() {
            return null;
        }

        @Override
        public AttentionKernel kernel(String name) throws IOException {
            return switch (name) {
                case "mha" -> new StandardAttention();
                case "mha-fast" -> new org.align4j.attention.fast.FastAttention();
                case "sliding-window" -> new org.align4j.attention.window.SlidingWindowAttention();
                default -> throw new IOException("no attention kernel named \"" + name + "\"");
            };
        }

        @Override
        public Tokenizer tokenizer(Path file) throws IOException {
            return new BpeTokenizerFactory().load(file);
        }
    };
}
