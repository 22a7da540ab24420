package org.align4j.model;

import static org.align4j.model.DecoderTransformerTest.CONTEXT;
import static org.align4j.model.DecoderTransformerTest.D;
import static org.align4j.model.DecoderTransformerTest.MASK;
import static org.align4j.model.DecoderTransformerTest.SHORT;
import static org.align4j.model.DecoderTransformerTest.TOKENS;
import static org.align4j.model.DecoderTransformerTest.V;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.NormPlacement;
import org.align4j.api.model.ModelConfig.NormType;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The classification head ({@code Transformer.classify}, {@code model.classes}): its logits against the double
 * reference, gradients of a loss through it against central differences, its weights and config saved and loaded,
 * and a model without it built exactly as before the head existed.
 */
class ClassificationHeadTest {

    static final int C = 3;

    @TempDir
    Path dir;

    static ModelConfig config(NormPlacement norm, NormType type, boolean tied, Positions positions, int classes) {
        return DecoderTransformerTest.config(norm, type, tied, positions).toBuilder().classes(classes).build();
    }

    /** A model with its classification head in a graph of its own, with a session. */
    static final class Fixture implements AutoCloseable {
        final Graph graph = new Graph();
        final Ops tf = Ops.create(graph);
        final Transformer model;
        final Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Operand<TFloat32> classes; // [B, T, C]
        final Operand<TFloat32> classesNoMask; // [B, T, C]
        final Session session;

        Fixture(ModelConfig c, String prefix) {
            model = new TransformerFactoryImpl().create(tf, prefix, c, new TestAttention(c.headSize()));
            classes = model.classify(tf, model.hidden(tf, tokens, mask));
            classesNoMask = model.classify(tf, model.hidden(tf, tokens, null));
            session = new Session(graph);
        }

        /** The logits {@code [B, T, C]}, flat, and their shape. */
        float[] run(int[][] ids, float[][] keyMask, long[] shapeOut) {
            try (TInt32 t = Tensors.ints(ids);
                    TFloat32 m = keyMask == null ? null : Tensors.floats(keyMask)) {
                Session.Runner r = session.runner().feed(tokens, t);
                if (m != null) {
                    r.feed(mask, m).fetch(classes);
                } else {
                    r.fetch(classesNoMask);
                }
                try (Result res = r.run()) {
                    TFloat32 out = (TFloat32) res.get(0);
                    System.arraycopy(out.shape().asArray(), 0, shapeOut, 0, 3);
                    return Tensors.values(out);
                }
            }
        }

        @Override
        public void close() {
            session.close();
            graph.close();
        }
    }

    static Stream<ModelConfig> headVariants() {
        return Stream.of(config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED, C),
                config(NormPlacement.POST, NormType.RMSNORM, true, Positions.SINUSOIDAL, C),
                config(NormPlacement.PRE, NormType.RMSNORM, true, Positions.LEARNED, 1));
    }

    @ParameterizedTest
    @MethodSource("headVariants")
    void logitsMatchTheDoublePrecisionReference(ModelConfig c) {
        try (Fixture f = new Fixture(c, "prm.")) {
            f.model.initialize(f.session, 1);
            f.model.assign(f.session, DecoderTransformerTest.perturbed(f.model.read(f.session), 2), false);
            Map<String, TensorData> weights = f.model.read(f.session);
            ReferenceDecoder ref = new ReferenceDecoder(c, weights, "prm.");

            long[] shape = new long[3];
            float[] got = f.run(TOKENS, MASK, shape);
            assertArrayEquals(new long[] {2, 5, c.classes()}, shape, "[B, T, C]");
            double err = Tensors.relErr(got, Tensors.flat(ref.forward(TOKENS, MASK).classes));
            assertTrue(err <= 1e-5, c + " classify: ||out - ref|| / ||ref|| = " + err);

            float[] shortRun = f.run(SHORT, null, shape); // the same graph with B = 1, T = 3 and no mask
            assertArrayEquals(new long[] {1, 3, c.classes()}, shape, "[B, T, C]");
            err = Tensors.relErr(shortRun, Tensors.flat(ref.forward(SHORT, null).classes));
            assertTrue(err <= 1e-5, c + " classify (no mask): ||out - ref|| / ||ref|| = " + err);
        }
    }

    /**
     * A process-reward-style loss: cross-entropy of the head's logits at labelled positions (weight 1; 0 elsewhere),
     * {@code sum(w * -log_softmax(logits)[label]) / sum(w)}, differentiated with {@code Graph.addGradients} over the
     * parameters the loss reaches; against central differences of the same loss on the double reference at every
     * entry of the head and three entries of every other parameter.
     */
    @Test
    void gradientsOfALossThroughTheHeadReachItsParametersAndMatchCentralDifferences() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED, C);
        int[][] labels = {{0, 2, 0, 1, 2}, {1, 0, 2, 0, 0}};
        float[][] weights = {{0, 1, 0, 1, 1}, {1, 0, 1, 0, 0}}; // the "step separators"
        try (Fixture f = new Fixture(c, "")) {
            Placeholder<TInt32> label = f.tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TFloat32> weight = f.tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> loss = crossEntropy(f.tf, f.classes, label, weight, C);

            Set<GraphOperation> used = f.graph.subgraphTo(Set.of(loss));
            List<Parameter> trained = new ArrayList<>();
            for (Parameter p : f.model.parameters()) {
                if (used.contains(p.variable().op())) {
                    trained.add(p);
                }
            }
            List<String> names = trained.stream().map(Parameter::name).toList();
            assertTrue(names.containsAll(List.of("cls_head.weight", "cls_head.bias")), names.toString());
            assertFalse(names.stream().anyMatch(n -> n.startsWith("score_head") || n.startsWith("lm_head")),
                    "only the classification head of the three heads reaches the loss: " + names);
            assertEquals(f.model.parameters().size() - 3, trained.size(), names.toString());

            Output<?>[] grads = f.graph.addGradients(loss.asOutput(),
                    trained.stream().map(p -> p.variable().asOutput()).toArray(Output<?>[]::new));
            f.model.initialize(f.session, 3);
            f.model.assign(f.session, DecoderTransformerTest.perturbed(f.model.read(f.session), 4), false);
            ReferenceDecoder ref = new ReferenceDecoder(c, f.model.read(f.session), "");

            Map<String, float[]> graphGrads = new HashMap<>();
            try (TInt32 t = Tensors.ints(TOKENS);
                    TFloat32 m = Tensors.floats(MASK);
                    TInt32 y = Tensors.ints(labels);
                    TFloat32 w = Tensors.floats(weights)) {
                Session.Runner run = f.session.runner().feed(f.tokens, t).feed(f.mask, m).feed(label, y)
                        .feed(weight, w).fetch(loss);
                for (Output<?> g : grads) {
                    run.fetch(g);
                }
                try (Result res = run.run()) {
                    float graphLoss = ((TFloat32) res.get(0)).getFloat();
                    double refLoss = referenceLoss(ref, labels, weights);
                    assertEquals(refLoss, graphLoss, 1e-5 * Math.abs(refLoss), "loss");
                    for (int i = 0; i < trained.size(); i++) {
                        graphGrads.put(trained.get(i).name(), Tensors.values((TFloat32) res.get(i + 1)));
                    }
                }
            }

            SplittableRandom r = new SplittableRandom(5);
            double num = 0;
            double den = 0;
            double eps = 1e-6;
            for (Parameter p : trained) {
                double[] w = ref.w.get(p.name());
                int[] picks;
                if (p.name().startsWith("cls_head")) {
                    picks = java.util.stream.IntStream.range(0, w.length).toArray(); // every entry of the head
                } else {
                    picks = new int[] {r.nextInt(w.length), r.nextInt(w.length), r.nextInt(w.length)};
                    if (p.name().equals("tok_emb.weight")) {
                        picks[0] = TOKENS[1][2] * D + 3; // a row the batch uses
                    }
                }
                for (int i : picks) {
                    double keep = w[i];
                    w[i] = keep + eps;
                    double plus = referenceLoss(ref, labels, weights);
                    w[i] = keep - eps;
                    double minus = referenceLoss(ref, labels, weights);
                    w[i] = keep;
                    double fd = (plus - minus) / (2 * eps);
                    double g = graphGrads.get(p.name())[i];
                    num += (g - fd) * (g - fd);
                    den += fd * fd;
                    assertTrue(Math.abs(g - fd) <= 1e-3 * (1 + Math.abs(fd)),
                            "d loss / d " + p.name() + "[" + i + "]: graph " + g + ", central difference " + fd);
                }
            }
            double err = Math.sqrt(num / den);
            assertTrue(err <= 1e-4, "||grad - fd|| / ||fd|| over the sampled entries = " + err);
            double headNorm = 0;
            for (float g : graphGrads.get("cls_head.weight")) {
                headNorm += g * g;
            }
            assertTrue(headNorm > 1e-6, "the head's weight gets a gradient: ||g||^2 = " + headNorm);
        }
    }

    /** One-hot times LogSoftmax on {@code [N, C]} (both have C++ gradients), weighted mean over positions. */
    private static Operand<TFloat32> crossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels,
            Operand<TFloat32> weights, int classes) {
        Operand<TInt32> flat = tf.constant(new int[] {-1});
        Operand<TFloat32> logProbs = tf.nn.logSoftmax(
                tf.reshape(logits, tf.constant(new int[] {-1, classes}))); // [N, C]
        Operand<TFloat32> oneHot = tf.oneHot(tf.reshape(labels, flat), tf.constant(classes), tf.constant(1f),
                tf.constant(0f)); // [N, C]
        Operand<TFloat32> nll = tf.math.neg(tf.reduceSum(tf.math.mul(oneHot, logProbs), tf.constant(1))); // [N]
        Operand<TFloat32> w = tf.reshape(weights, flat); // [N]
        return tf.math.div(tf.reduceSum(tf.math.mul(w, nll), tf.constant(0)),
                tf.reduceSum(w, tf.constant(0))); // []
    }

    /** The same loss in double precision, from the reference's logits. */
    private static double referenceLoss(ReferenceDecoder ref, int[][] labels, float[][] weights) {
        double[][][] logits = ref.forward(TOKENS, MASK).classes;
        double sum = 0;
        double count = 0;
        for (int i = 0; i < logits.length; i++) {
            for (int p = 0; p < logits[i].length; p++) {
                if (weights[i][p] == 0) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double v : logits[i][p]) {
                    max = Math.max(max, v);
                }
                double z = 0;
                for (double v : logits[i][p]) {
                    z += Math.exp(v - max);
                }
                sum += weights[i][p] * (max + Math.log(z) - logits[i][p][labels[i][p]]);
                count += weights[i][p];
            }
        }
        return sum / count;
    }

    @Test
    void aModelWithTheHeadSavesAndLoadsItsWeightsAndConfig() throws IOException {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.LEARNED, C);
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        Path weightsFile = dir.resolve("model.safetensors");
        Path configFile = dir.resolve("config.json");
        Map<String, TensorData> saved;
        float[] before;
        long[] shape = new long[3];
        try (Fixture f = new Fixture(c, "reward.")) {
            f.model.initialize(f.session, 11);
            f.model.assign(f.session, DecoderTransformerTest.perturbed(f.model.read(f.session), 12), false);
            saved = f.model.read(f.session);
            before = f.run(TOKENS, MASK, shape);
            store.save(weightsFile, saved, Map.of("format", "pt"));
            store.saveConfig(configFile, c);
        }
        assertTrue(saved.containsKey("reward.cls_head.weight") && saved.containsKey("reward.cls_head.bias"),
                saved.keySet().toString());
        JsonNode json = new ObjectMapper().readTree(configFile.toFile());
        assertEquals(C, json.get("classes").intValue(), json.toString());

        ModelConfig loaded = store.loadConfig(configFile);
        assertEquals(c, loaded);
        assertEquals(C, loaded.classes());
        Map<String, TensorData> tensors = store.load(weightsFile).tensors();
        assertArrayEquals(new long[] {D, C}, tensors.get("reward.cls_head.weight").shape());
        assertArrayEquals(new long[] {C}, tensors.get("reward.cls_head.bias").shape());
        try (Fixture f = new Fixture(loaded, "reward.")) {
            f.model.assign(f.session, tensors, false);
            Map<String, TensorData> back = f.model.read(f.session);
            assertEquals(saved.keySet(), back.keySet());
            saved.forEach((name, t) -> assertArrayEquals(t.values(), back.get(name).values(), name));
            assertArrayEquals(before, f.run(TOKENS, MASK, shape), "the loaded model classifies as the saved one");
        }

        // weights of a model without the head do not silently fill one, and vice versa
        ModelConfig without = c.toBuilder().classes(0).build();
        try (Fixture f = new Fixture(c, "reward.")) {
            Map<String, TensorData> lmOnly = new LinkedHashMap<>(tensors);
            lmOnly.remove("reward.cls_head.weight");
            lmOnly.remove("reward.cls_head.bias");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.model.assign(f.session, lmOnly, false));
            assertTrue(e.getMessage().contains("no value for parameter \"reward.cls_head.weight\" [16, 3]"),
                    e.getMessage());
        }
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "reward.", without,
                    new TestAttention(without.headSize()));
            try (Session s = new Session(g)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> m.assign(s, tensors, false));
                assertTrue(e.getMessage().contains("\"reward.cls_head.bias\" is not a parameter of this model"),
                        e.getMessage());
            }
        }

        // a checkpoint holds the head and its config.json the classes
        CheckpointStoreImpl checkpoints = new CheckpointStoreImpl();
        Path at = checkpoints.save(dir.resolve("run"), new Checkpoint(5, saved, Map.of(), null), c, 1);
        Checkpoint latest = checkpoints.latest(dir.resolve("run")).orElseThrow();
        assertArrayEquals(saved.get("reward.cls_head.weight").values(),
                latest.tensors().get("reward.cls_head.weight").values());
        assertEquals(C, store.loadConfig(at.resolve("config.json")).classes());
    }

    /** {@code name shape} of every parameter, in order. */
    private static List<String> namesAndShapes(Transformer m) {
        return m.parameters().stream().map(p -> p.name() + " " + p.shape()).toList();
    }

    /** Written from the parameters the model had before the classification head existed. */
    private static List<String> withoutTheHead(boolean layerNorm, boolean preNorm, boolean tied, boolean learned) {
        List<String> l = new ArrayList<>();
        l.add("tok_emb.weight [" + V + ", " + D + "]");
        if (learned) {
            l.add("pos_emb.weight [" + CONTEXT + ", " + D + "]");
        }
        for (int i = 0; i < DecoderTransformerTest.LAYERS; i++) {
            String b = "blocks." + i + ".";
            l.add(b + "ln_1.weight [16]");
            if (layerNorm) {
                l.add(b + "ln_1.bias [16]");
            }
            for (String x : List.of("q", "k", "v", "o")) {
                l.add(b + "attn." + x + ".weight [16, 16]");
                l.add(b + "attn." + x + ".bias [16]");
            }
            l.add(b + "ln_2.weight [16]");
            if (layerNorm) {
                l.add(b + "ln_2.bias [16]");
            }
            l.addAll(List.of(b + "mlp.fc.weight [16, 64]", b + "mlp.fc.bias [64]", b + "mlp.proj.weight [64, 16]",
                    b + "mlp.proj.bias [16]"));
        }
        if (preNorm) {
            l.add("ln_f.weight [16]");
            if (layerNorm) {
                l.add("ln_f.bias [16]");
            }
        }
        if (!tied) {
            l.add("lm_head.weight [16, 11]");
        }
        l.addAll(List.of("score_head.weight [16]", "score_head.bias [1]"));
        return l;
    }

    @Test
    void withoutClassesTheModelHasTheParametersItAlwaysHadAndTheHeadComesLast() {
        List<ModelConfig> configs = List.of(
                config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED, 0),
                config(NormPlacement.POST, NormType.RMSNORM, true, Positions.SINUSOIDAL, 0));
        List<List<String>> expected = List.of(withoutTheHead(true, true, false, true),
                withoutTheHead(false, false, true, false));
        assertEquals(2 + 2 * 16 + 2 + 1 + 2, expected.get(0).size()); // as DecoderTransformerTest counts them
        assertEquals(3 + 2 * 14, expected.get(1).size());
        for (int k = 0; k < configs.size(); k++) {
            ModelConfig none = configs.get(k);
            ModelConfig three = none.toBuilder().classes(C).build();
            Map<String, TensorData> a;
            Map<String, TensorData> b;
            try (Graph g = new Graph()) {
                Ops tf = Ops.create(g);
                Transformer m = new TransformerFactoryImpl().create(tf, "", none, new TestAttention(none.headSize()));
                assertEquals(expected.get(k), namesAndShapes(m), none.toString());
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> m.classify(tf, m.hidden(tf, tf.constant(new int[][] {{1, 2}}), null)));
                assertTrue(e.getMessage().contains("no classification head (model.classes = 0)"), e.getMessage());
                g.operations().forEachRemaining(op -> assertFalse(op.name().contains("cls_head"), op.name()));
                try (Session s = new Session(g)) {
                    m.initialize(s, 21);
                    a = m.read(s);
                }
            }
            try (Graph g = new Graph()) {
                Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "", three,
                        new TestAttention(three.headSize()));
                List<String> want = new ArrayList<>(expected.get(k));
                want.addAll(List.of("cls_head.weight [16, 3]", "cls_head.bias [3]"));
                assertEquals(want, namesAndShapes(m), three.toString());
                List<Parameter> ps = m.parameters();
                assertTrue(ps.get(ps.size() - 2).decay(), "cls_head.weight decays");
                assertFalse(ps.get(ps.size() - 1).decay(), "cls_head.bias does not");
                long count = 0;
                for (Parameter p : ps) {
                    if (!p.name().startsWith("score_head")) {
                        count += p.shape().size();
                    }
                }
                assertEquals(three.parameterCount(), count, "ModelConfig.parameterCount() with the head");
                assertEquals(none.parameterCount() + D * C + C, three.parameterCount());
                try (Session s = new Session(g)) {
                    m.initialize(s, 21);
                    b = m.read(s);
                }
            }
            a.forEach((name, t) -> assertArrayEquals(t.values(), b.get(name).values(),
                    "the head shifts no other parameter's initial values: " + name));
            assertArrayEquals(new float[C], b.get("cls_head.bias").values(), "bias starts at 0");
            float[] head = b.get("cls_head.weight").values();
            double sq = 0;
            for (float v : head) {
                sq += v * v;
            }
            assertTrue(sq > 0, "weight drawn from N(0, init_std)");
            assertNotEquals(head[0], b.get("score_head.weight").values()[0], "its own stream, seeded by its name");
        }
    }

    @Test
    void classesIsValidatedComparedAndCopied() {
        ModelConfig base = ModelConfig.builder().vocabSize(10).build();
        assertEquals(0, base.classes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> base.toBuilder().classes(-1).build());
        assertTrue(e.getMessage().startsWith("model.classes: must be >= 0"), e.getMessage());
        ModelConfig three = base.toBuilder().classes(3).build();
        assertEquals(3, three.toBuilder().build().classes());
        assertNotEquals(base, three);
        assertEquals(three, ModelConfig.builder().vocabSize(10).classes(3).build());
        assertEquals(three.hashCode(), ModelConfig.builder().vocabSize(10).classes(3).build().hashCode());
        assertTrue(three.toString().contains("classes=3"), three.toString());
        assertFalse(base.toString().contains("classes"), "a model without the head prints as it always did");
    }
}
