package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.NormPlacement;
import org.align4j.api.model.ModelConfig.NormType;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The Transformer against {@link ReferenceDecoder} (double precision, plain loops), its gradients against central
 * differences of that reference, and its parameter bookkeeping.
 */
class DecoderTransformerTest {

    static final int V = 11;
    static final int D = 16;
    static final int HEADS = 2;
    static final int LAYERS = 2;
    static final int CONTEXT = 8;

    static final int[][] TOKENS = {{3, 7, 1, 10, 0}, {5, 5, 2, 9, 4}};
    static final float[][] MASK = {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};
    static final int[][] SHORT = {{8, 0, 6}};

    static ModelConfig config(NormPlacement norm, NormType type, boolean tied, Positions positions) {
        return ModelConfig.builder().vocabSize(V).layers(LAYERS).dModel(D).heads(HEADS).context(CONTEXT)
                .norm(norm).normType(type).tieEmbeddings(tied).positions(positions).initStd(0.5f).build();
    }

    static Stream<ModelConfig> allVariants() {
        List<ModelConfig> all = new ArrayList<>();
        for (NormPlacement norm : NormPlacement.values()) {
            for (NormType type : NormType.values()) {
                for (boolean tied : new boolean[] {true, false}) {
                    for (Positions positions : Positions.values()) {
                        all.add(config(norm, type, tied, positions));
                    }
                }
            }
        }
        all.addAll(groupedQuery().toList());
        all.addAll(positionsAndWindows().toList());
        return all.stream();
    }

    /** A model in a graph of its own, with forward passes with and without a key mask, and a session. */
    static final class Fixture implements AutoCloseable {
        final Graph graph = new Graph();
        final Ops tf = Ops.create(graph);
        final String prefix;
        final Transformer model;
        final Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Operand<TFloat32> hidden;
        final Operand<TFloat32> logits;
        final Operand<TFloat32> scalar;
        final Operand<TFloat32> hiddenNoMask;
        final Operand<TFloat32> logitsNoMask;
        final Operand<TFloat32> scalarNoMask;
        final Session session;

        Fixture(ModelConfig c, String prefix) {
            this.prefix = prefix;
            model = new TransformerFactoryImpl().create(tf, prefix, c, new TestAttention(c.headSize()));
            hidden = model.hidden(tf, tokens, mask);
            logits = model.lmLogits(tf, hidden);
            scalar = model.scalar(tf, hidden);
            hiddenNoMask = model.hidden(tf, tokens, null);
            logitsNoMask = model.lmLogits(tf, hiddenNoMask);
            scalarNoMask = model.scalar(tf, hiddenNoMask);
            session = new Session(graph);
        }

        /** hidden, logits, scalar as flat arrays. */
        float[][] run(int[][] ids, float[][] keyMask) {
            try (TInt32 t = Tensors.ints(ids);
                    TFloat32 m = keyMask == null ? null : Tensors.floats(keyMask)) {
                Session.Runner r = session.runner().feed(tokens, t);
                if (m != null) {
                    r.feed(mask, m).fetch(hidden).fetch(logits).fetch(scalar);
                } else {
                    r.fetch(hiddenNoMask).fetch(logitsNoMask).fetch(scalarNoMask);
                }
                try (Result res = r.run()) {
                    return new float[][] {Tensors.values((TFloat32) res.get(0)), Tensors.values((TFloat32) res.get(1)),
                            Tensors.values((TFloat32) res.get(2))};
                }
            }
        }

        @Override
        public void close() {
            session.close();
            graph.close();
        }
    }

    /** The read values with every bias and gain moved off 0 and 1, so the reference checks them too. */
    static Map<String, TensorData> perturbed(Map<String, TensorData> values, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, TensorData> out = new LinkedHashMap<>();
        values.forEach((name, t) -> {
            boolean gain = name.matches(".*ln_(1|2|f)\\.weight");
            if (gain || name.endsWith(".bias")) {
                float[] v = t.values().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) r.nextDouble(-0.3, 0.3);
                }
                out.put(name, new TensorData(t.shape(), v));
            } else {
                out.put(name, t);
            }
        });
        return out;
    }

    @ParameterizedTest
    @MethodSource("allVariants")
    void forwardMatchesDoublePrecisionReference(ModelConfig c) {
        try (Fixture f = new Fixture(c, "policy.")) {
            f.model.initialize(f.session, 1);
            Map<String, TensorData> assigned = perturbed(f.model.read(f.session), 2);
            f.model.assign(f.session, assigned, false);
            Map<String, TensorData> weights = f.model.read(f.session);
            assigned.forEach((name, t) -> assertArrayEquals(t.values(), weights.get(name).values(), name));
            ReferenceDecoder ref = new ReferenceDecoder(c, weights, "policy.");

            float[][] got = f.run(TOKENS, MASK); // B = 2, T = 5, right padding
            ReferenceDecoder.Output want = ref.forward(TOKENS, MASK);
            check(c, "hidden", got[0], Tensors.flat(want.hidden));
            check(c, "logits", got[1], Tensors.flat(want.logits));
            check(c, "scalar", got[2], Tensors.flat(want.scalar));

            float[][] shortRun = f.run(SHORT, null); // the same graph with B = 1, T = 3 and no mask
            ReferenceDecoder.Output shortWant = ref.forward(SHORT, null);
            check(c, "hidden (no mask)", shortRun[0], Tensors.flat(shortWant.hidden));
            check(c, "logits (no mask)", shortRun[1], Tensors.flat(shortWant.logits));
            check(c, "scalar (no mask)", shortRun[2], Tensors.flat(shortWant.scalar));
        }
    }

    private static void check(ModelConfig c, String what, float[] got, double[] want) {
        double err = Tensors.relErr(got, want);
        assertTrue(err <= 1e-5, c + " " + what + ": ||out - ref|| / ||ref|| = " + err);
    }

    static Stream<ModelConfig> gradientVariants() {
        return Stream.concat(Stream.of(config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED),
                config(NormPlacement.POST, NormType.RMSNORM, true, Positions.SINUSOIDAL)),
                Stream.concat(groupedQuery(), positionsAndWindows()));
    }

    /**
     * Rotary positions (with grouped heads, and another base), ALiBi, and sliding windows of 1 and 2 tokens over
     * sequences of 5 (and of 3 with learned positions).
     */
    static Stream<ModelConfig> positionsAndWindows() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.ROPE);
        return Stream.of(c.toBuilder().heads(4).kvHeads(2).build(),
                config(NormPlacement.POST, NormType.RMSNORM, false, Positions.ROPE).toBuilder().ropeBase(50).build(),
                config(NormPlacement.PRE, NormType.RMSNORM, true, Positions.ALIBI),
                c.toBuilder().positions(Positions.ALIBI).heads(4).window(2).build(),
                c.toBuilder().window(1).build(),
                config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED).toBuilder().window(2).build());
    }

    /** Four query heads sharing two key/value heads (grouped-query) and one (multi-query). */
    static Stream<ModelConfig> groupedQuery() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.LEARNED);
        return Stream.of(c.toBuilder().heads(4).kvHeads(2).build(), c.toBuilder().heads(4).kvHeads(1).build());
    }

    /**
     * d S / d parameter for {@code S = sum(logits * R) + sum(scalar * r)} (every parameter reaches S) from
     * {@code Graph.addGradients}, against central differences of the double reference at three entries of every
     * parameter (step 1e-6, error ~1e-9). No custom gradient is registered anywhere in this JVM.
     */
    @ParameterizedTest
    @MethodSource("gradientVariants")
    void gradientsMatchCentralDifferencesOfTheReference(ModelConfig c) {
        try (Fixture f = new Fixture(c, "")) {
            Placeholder<TFloat32> rLogits = f.tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, V)));
            Placeholder<TFloat32> rScalar = f.tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> objective = f.tf.math.add(
                    f.tf.reduceSum(f.tf.math.mul(f.logits, rLogits), f.tf.constant(new int[] {0, 1, 2})),
                    f.tf.reduceSum(f.tf.math.mul(f.scalar, rScalar), f.tf.constant(new int[] {0, 1})));
            List<Parameter> params = f.model.parameters();
            Output<?>[] grads = f.graph.addGradients(objective.asOutput(),
                    params.stream().map(p -> p.variable().asOutput()).toArray(Output<?>[]::new));
            f.model.initialize(f.session, 3);
            f.model.assign(f.session, perturbed(f.model.read(f.session), 4), false);
            Map<String, TensorData> weights = f.model.read(f.session);

            SplittableRandom r = new SplittableRandom(5);
            float[] wLogits = new float[2 * 5 * V];
            float[] wScalar = new float[2 * 5];
            for (int i = 0; i < wLogits.length; i++) {
                wLogits[i] = (float) r.nextDouble(-1, 1);
            }
            for (int i = 0; i < wScalar.length; i++) {
                wScalar[i] = (float) r.nextDouble(-1, 1);
            }
            Map<String, float[]> graphGrads = new HashMap<>();
            try (TInt32 t = Tensors.ints(TOKENS);
                    TFloat32 m = Tensors.floats(MASK);
                    TFloat32 rl = TFloat32.tensorOf(Shape.of(2, 5, V), DataBuffers.of(wLogits, true, false));
                    TFloat32 rs = TFloat32.tensorOf(Shape.of(2, 5), DataBuffers.of(wScalar, true, false))) {
                Session.Runner run = f.session.runner().feed(f.tokens, t).feed(f.mask, m).feed(rLogits, rl)
                        .feed(rScalar, rs);
                for (Output<?> g : grads) {
                    run.fetch(g);
                }
                try (Result res = run.run()) {
                    for (int i = 0; i < params.size(); i++) {
                        graphGrads.put(params.get(i).name(), Tensors.values((TFloat32) res.get(i)));
                    }
                }
            }

            ReferenceDecoder ref = new ReferenceDecoder(c, weights, "");
            double num = 0;
            double den = 0;
            double eps = 1e-6;
            for (Parameter p : params) {
                double[] w = ref.w.get(p.name());
                int[] picks = {r.nextInt(w.length), r.nextInt(w.length), r.nextInt(w.length)};
                if (p.name().equals("tok_emb.weight")) {
                    picks[0] = TOKENS[1][2] * D + 3; // a row the batch uses
                }
                for (int i : picks) {
                    double keep = w[i];
                    w[i] = keep + eps;
                    double plus = objective(ref, wLogits, wScalar);
                    w[i] = keep - eps;
                    double minus = objective(ref, wLogits, wScalar);
                    w[i] = keep;
                    double fd = (plus - minus) / (2 * eps);
                    double g = graphGrads.get(p.name())[i];
                    num += (g - fd) * (g - fd);
                    den += fd * fd;
                    assertTrue(Math.abs(g - fd) <= 1e-3 * (1 + Math.abs(fd)),
                            c + " d/d " + p.name() + "[" + i + "]: graph " + g + ", central difference " + fd);
                }
            }
            double err = Math.sqrt(num / den);
            assertTrue(err <= 1e-4, c + ": ||grad - fd|| / ||fd|| over the sampled entries = " + err);
        }
    }

    private static double objective(ReferenceDecoder ref, float[] wLogits, float[] wScalar) {
        ReferenceDecoder.Output o = ref.forward(TOKENS, MASK);
        double s = 0;
        double[] l = Tensors.flat(o.logits);
        for (int i = 0; i < l.length; i++) {
            s += l[i] * wLogits[i];
        }
        double[] sc = Tensors.flat(o.scalar);
        for (int i = 0; i < sc.length; i++) {
            s += sc[i] * wScalar[i];
        }
        return s;
    }

    @Test
    void parametersHaveStableNamesShapesAndDecay() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED);
        try (Fixture f = new Fixture(c, "policy.")) {
            List<String> expected = new ArrayList<>(List.of("tok_emb.weight", "pos_emb.weight"));
            for (int i = 0; i < LAYERS; i++) {
                for (String s : List.of("ln_1.weight", "ln_1.bias", "attn.q.weight", "attn.q.bias", "attn.k.weight",
                        "attn.k.bias", "attn.v.weight", "attn.v.bias", "attn.o.weight", "attn.o.bias", "ln_2.weight",
                        "ln_2.bias", "mlp.fc.weight", "mlp.fc.bias", "mlp.proj.weight", "mlp.proj.bias")) {
                    expected.add("blocks." + i + "." + s);
                }
            }
            expected.addAll(List.of("ln_f.weight", "ln_f.bias", "lm_head.weight", "score_head.weight",
                    "score_head.bias"));
            List<String> names = new ArrayList<>();
            long count = 0;
            for (Parameter p : f.model.parameters()) {
                names.add(p.name().substring("policy.".length()));
                assertTrue(p.name().startsWith("policy."), p.name());
                boolean matmul = p.name().matches(".*(attn\\.[qkvo]|mlp\\.(fc|proj)|lm_head|score_head)\\.weight");
                assertEquals(matmul, p.decay(), "decay of " + p.name());
                if (!p.name().contains("score_head")) {
                    count += p.shape().size();
                }
            }
            assertEquals(expected, names);
            assertEquals(c.parameterCount(), count, "ModelConfig.parameterCount()");
            Map<String, Shape> shapes = new HashMap<>();
            f.model.parameters().forEach(p -> shapes.put(p.name(), p.shape()));
            assertEquals(Shape.of(V, D), shapes.get("policy.tok_emb.weight"));
            assertEquals(Shape.of(CONTEXT, D), shapes.get("policy.pos_emb.weight"));
            assertEquals(Shape.of(D, 4 * D), shapes.get("policy.blocks.1.mlp.fc.weight"));
            assertEquals(Shape.of(4 * D, D), shapes.get("policy.blocks.1.mlp.proj.weight"));
            assertEquals(Shape.of(D, V), shapes.get("policy.lm_head.weight"));
            assertEquals(Shape.of(D), shapes.get("policy.score_head.weight"));
            assertEquals(Shape.of(1), shapes.get("policy.score_head.bias"));
            assertEquals("policy/blocks.0.attn.q.weight",
                    f.model.parameters().get(4).variable().op().name(), "graph name of the variable");
        }
        ModelConfig other = config(NormPlacement.POST, NormType.RMSNORM, true, Positions.SINUSOIDAL);
        try (Fixture f = new Fixture(other, "")) {
            List<String> names = f.model.parameters().stream().map(Parameter::name).toList();
            assertEquals("tok_emb.weight", names.get(0));
            assertTrue(f.model.parameters().get(0).decay(), "tied tok_emb is the LM head's matmul weight");
            assertFalse(names.stream().anyMatch(n -> n.startsWith("pos_emb") || n.startsWith("ln_f")
                    || n.startsWith("lm_head") || n.endsWith("ln_1.bias") || n.endsWith("ln_2.bias")),
                    names.toString());
            assertEquals(3 + LAYERS * 14, names.size(), names.toString());
        }
    }

    @Test
    void twoModelsShareAGraphUnderTheirPrefixes() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.LEARNED);
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            TransformerFactoryImpl factory = new TransformerFactoryImpl();
            Transformer policy = factory.create(tf, "policy.", c, new TestAttention(c.headSize()));
            Transformer ref = factory.create(tf, "ref", c, new TestAttention(c.headSize()));
            assertEquals("ref.tok_emb.weight", ref.parameters().get(0).name());
            IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                    () -> factory.create(tf, "policy", c, new TestAttention(c.headSize())));
            assertTrue(again.getMessage().contains("already holds a model with that prefix"), again.getMessage());
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> factory.create(tf, "my model", c, new TestAttention(c.headSize())));
            assertTrue(bad.getMessage().contains("\"my model\""), bad.getMessage());
            try (Session s = new Session(g)) {
                policy.initialize(s, 9);
                ref.initialize(s, 9);
                Map<String, TensorData> p = policy.read(s);
                Map<String, TensorData> r = ref.read(s);
                assertEquals(p.size(), r.size());
                p.forEach((name, t) -> assertArrayEquals(t.values(),
                        r.get("ref." + name.substring("policy.".length())).values(), name));
            }
        }
    }

    @Test
    void initializeIsDeterministicAndFollowsTheScheme() {
        ModelConfig c = ModelConfig.builder().vocabSize(100).layers(3).dModel(64).heads(4).context(16)
                .initStd(0.02f).build();
        Map<String, TensorData> a;
        Map<String, TensorData> b;
        Map<String, TensorData> other;
        try (Fixture f = new Fixture(c, "")) {
            f.model.initialize(f.session, 42);
            a = f.model.read(f.session);
            f.model.initialize(f.session, 43);
            other = f.model.read(f.session);
        }
        try (Fixture f = new Fixture(c, "x.")) {
            f.model.initialize(f.session, 42);
            b = f.model.read(f.session);
        }
        assertEquals(a.size(), b.size());
        a.forEach((name, t) -> {
            assertArrayEquals(t.values(), b.get("x." + name).values(), "same seed, same values: " + name);
            if (name.endsWith(".weight") && !name.matches(".*ln_(1|2|f)\\.weight")) {
                assertFalse(Arrays.equals(t.values(), other.get(name).values()), "another seed: " + name);
                if (t.size() < 1000) {
                    return; // too few values for the statistics below (score_head.weight has 64)
                }
                double expectedStd = name.matches(".*(attn\\.o|mlp\\.proj)\\.weight") ? 0.02 / Math.sqrt(6) : 0.02;
                double mean = 0;
                double sq = 0;
                for (float v : t.values()) {
                    mean += v;
                    sq += v * v;
                }
                mean /= t.size();
                double std = Math.sqrt(sq / t.size() - mean * mean);
                assertEquals(expectedStd, std, 0.1 * expectedStd, "std of " + name);
                // 5 standard errors: deterministic here, and a bound a correct N(0, std) passes with p > 0.99999
                assertEquals(0, mean, 5 * expectedStd / Math.sqrt(t.size()), "mean of " + name);
            } else {
                float want = name.endsWith(".bias") ? 0f : 1f;
                for (float v : t.values()) {
                    assertEquals(want, v, name);
                }
            }
        });
        // a parameter's stream depends on its name, not on its place in the list
        assertNotEquals(a.get("blocks.0.attn.q.weight").values()[0], a.get("blocks.0.attn.k.weight").values()[0]);
    }

    @Test
    void assignNamesWhatIsWrong() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.LEARNED);
        try (Fixture f = new Fixture(c, "policy.")) {
            f.model.initialize(f.session, 1);
            Map<String, TensorData> ok = f.model.read(f.session);

            Map<String, TensorData> missing = new HashMap<>(ok);
            missing.remove("policy.blocks.1.attn.v.bias");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.model.assign(f.session, missing, false));
            assertTrue(e.getMessage().contains("no value for parameter \"policy.blocks.1.attn.v.bias\""),
                    e.getMessage());

            Map<String, TensorData> misshapen = new HashMap<>(ok);
            misshapen.put("policy.blocks.0.attn.q.weight", new TensorData(new long[] {D, 8}, new float[D * 8]));
            e = assertThrows(IllegalArgumentException.class, () -> f.model.assign(f.session, misshapen, false));
            assertTrue(e.getMessage().contains("parameter \"policy.blocks.0.attn.q.weight\": the model's shape is"
                    + " [16, 16], the value's is [16, 8]"), e.getMessage());

            Map<String, TensorData> extra = new HashMap<>(ok);
            extra.put("adam.m.policy.tok_emb.weight", new TensorData(new long[] {1}, new float[1]));
            e = assertThrows(IllegalArgumentException.class, () -> f.model.assign(f.session, extra, false));
            assertTrue(e.getMessage().contains("\"adam.m.policy.tok_emb.weight\" is not a parameter"), e.getMessage());

            Map<String, TensorData> changed = new HashMap<>(extra);
            float[] v = ok.get("policy.ln_f.bias").values().clone();
            v[0] = 0.25f;
            changed.put("policy.ln_f.bias", new TensorData(new long[] {D}, v));
            f.model.assign(f.session, changed, true);
            assertEquals(0.25f, f.model.read(f.session).get("policy.ln_f.bias").values()[0]);
        }
    }

    @Test
    void morePositionsThanTheContextFailClearly() {
        ModelConfig c = config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.SINUSOIDAL);
        try (Fixture f = new Fixture(c, "")) {
            f.model.initialize(f.session, 1);
            int[][] tooLong = {new int[CONTEXT + 1]};
            RuntimeException e = assertThrows(RuntimeException.class, () -> f.run(tooLong, null));
            assertTrue(e.getMessage().contains("more positions than the context of the model (model.context = 8)"),
                    e.getMessage());
            assertEquals(CONTEXT * V, f.run(new int[][] {new int[CONTEXT]}, null)[1].length, "T = context is fine");
        }
    }
}
