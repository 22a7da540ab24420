package org.align4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.attention.fast.FastAttention;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.attention.window.SlidingWindowAttention;
import org.align4j.model.TransformerFactoryImpl;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * Cached generation with each attention kernel and the model settings of step 6 (shared key/value heads, rotary and
 * ALiBi positions, windows): greedy tokens with the KV cache equal those of recomputing the prefix, and a batch of
 * prompts of different lengths (left-padded) continues each as it would alone.
 */
class KernelGenerationTest {

    static Stream<Arguments> cases() {
        ModelConfig base = GenerationSessionTest.CONFIG;
        List<ModelConfig> configs = List.of(
                base.toBuilder().kvHeads(2).positions(Positions.ROPE).build(),
                base.toBuilder().kvHeads(1).positions(Positions.ALIBI).window(5).build(),
                base.toBuilder().positions(Positions.LEARNED).window(3).build());
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig c : configs) {
            out.add(Arguments.of("mha", c));
            out.add(Arguments.of("mha-fast", c));
            out.add(Arguments.of("sliding-window", c));
        }
        return out.stream();
    }

    static AttentionKernel kernel(String name) {
        return switch (name) {
            case "mha" -> new StandardAttention();
            case "mha-fast" -> new FastAttention();
            default -> new SlidingWindowAttention();
        };
    }

    static Map<String, TensorData> weights(ModelConfig config) {
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, 5);
                return m.read(s);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void cachedGreedyEqualsRecomputingAndEachRowAsAlone(String kernel, ModelConfig config) {
        List<int[]> prompts = GenerationSessionTest.prompts(9, 8);
        GenerationSettings greedy = GenerationSettings.greedy(10);
        try (GenerationSession s = GenerationSessionTest.GENERATOR.open(config, kernel(kernel), weights(config))) {
            List<List<Completion>> cached = s.generate(prompts, greedy);
            List<List<Completion>> uncached = s.generate(prompts, greedy.toBuilder().cache(false).build());
            double maxAbs = 0;
            for (int i = 0; i < prompts.size(); i++) {
                Completion a = cached.get(i).get(0);
                assertArrayEquals(uncached.get(i).get(0).tokens(), a.tokens(), kernel + " prompt " + i);
                assertEquals(10, a.tokens().length);
                for (int j = 0; j < a.tokens().length; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(a.logProbs()[j] - uncached.get(i).get(0).logProbs()[j]));
                }
                Completion alone = s.generate(List.of(prompts.get(i)), greedy).get(0).get(0);
                assertArrayEquals(alone.tokens(), a.tokens(), kernel + " prompt " + i + " alone");
            }
            assertTrue(maxAbs <= 1e-4, kernel + " " + config + ": max |log p cached - log p uncached| = " + maxAbs);
        }
    }
}
