package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.align4j.api.model.CachedForward;
import org.align4j.api.model.KeyValueCache;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.NormPlacement;
import org.align4j.api.model.ModelConfig.NormType;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The forward with explicit positions and the KV-cached forward: a left-padded batch of prompts of different lengths,
 * then one token at a time with the fetched cache fed back, against (a) the whole-sequence forward of the same padded
 * batch and (b) {@link ReferenceDecoder} run on each row alone, without padding.
 */
class KeyValueCacheTest {

    static final int CONTEXT = 12;
    /** Prompts of lengths 3, 1, 5 and the tokens fed after them, one per step. */
    static final int[][] PROMPTS = {{3, 7, 1}, {5}, {2, 9, 4, 6, 0}};
    static final int[][] NEXT = {{8, 2, 10, 4}, {1, 1, 6, 3}, {7, 0, 5, 9}};

    static Stream<ModelConfig> variants() {
        return Stream.of(
                DecoderTransformerTest.config(NormPlacement.PRE, NormType.LAYERNORM, false, Positions.LEARNED),
                DecoderTransformerTest.config(NormPlacement.POST, NormType.RMSNORM, true, Positions.SINUSOIDAL),
                DecoderTransformerTest.config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.LEARNED)
                        .toBuilder().heads(4).kvHeads(1).build(), // multi-query: the cache holds one head
                DecoderTransformerTest.config(NormPlacement.PRE, NormType.LAYERNORM, true, Positions.ROPE)
                        .toBuilder().heads(4).kvHeads(2).build(), // keys rotated at their positions, cached rotated
                DecoderTransformerTest.config(NormPlacement.POST, NormType.RMSNORM, true, Positions.ALIBI)
                        .toBuilder().window(3).build()) // a window over cached keys, ALiBi at cached distances
                .map(c -> c.toBuilder().context(CONTEXT).build());
    }

    /** A model with the cached and the whole-sequence forward in one graph. */
    static final class Fixture implements AutoCloseable {
        final Graph graph = new Graph();
        final Ops tf = Ops.create(graph);
        final ModelConfig c;
        final Transformer model;
        final Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Placeholder<TInt32> positions = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        final Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        final List<Placeholder<TFloat32>> pastK = new ArrayList<>();
        final List<Placeholder<TFloat32>> pastV = new ArrayList<>();
        final CachedForward cached;
        final Operand<TFloat32> cachedLogits; // [B, Tn, V]
        final Operand<TFloat32> fullLogits; // [B, T, V]
        final Session session;

        Fixture(ModelConfig c) {
            this.c = c;
            model = new TransformerFactoryImpl().create(tf, "m.", c, new TestAttention(c.headSize()));
            Shape kv = Shape.of(-1, model.keyValueHeads(), -1, c.headSize());
            for (int i = 0; i < c.layers(); i++) {
                pastK.add(tf.placeholder(TFloat32.class, Placeholder.shape(kv)));
                pastV.add(tf.placeholder(TFloat32.class, Placeholder.shape(kv)));
            }
            cached = model.hiddenCached(tf, tokens, positions, mask,
                    new KeyValueCache(new ArrayList<>(pastK), new ArrayList<>(pastV)));
            cachedLogits = model.lmLogits(tf, cached.hidden());
            fullLogits = model.lmLogits(tf, model.hidden(tf, tokens, positions, mask));
            session = new Session(graph);
            model.initialize(session, 5);
            model.assign(session, DecoderTransformerTest.perturbed(model.read(session), 6), false);
        }

        @Override
        public void close() {
            session.close();
            graph.close();
        }
    }

    /**
     * Left-padded slots: row {@code i}'s prompt ends at slot {@code Lmax - 1}, then one slot per fed token.
     * Returns {tokens, positions, mask} for the first {@code slots} slots.
     */
    static Object[] layout(int slots) {
        int lmax = Arrays.stream(PROMPTS).mapToInt(p -> p.length).max().getAsInt();
        int b = PROMPTS.length;
        int[][] ids = new int[b][slots];
        int[][] pos = new int[b][slots];
        float[][] m = new float[b][slots];
        for (int i = 0; i < b; i++) {
            int pad = lmax - PROMPTS[i].length;
            for (int s = 0; s < slots; s++) {
                if (s < pad) {
                    continue; // padding: token 0, position 0, mask 0
                }
                int p = s - pad;
                ids[i][s] = p < PROMPTS[i].length ? PROMPTS[i][p] : NEXT[i][p - PROMPTS[i].length];
                pos[i][s] = p;
                m[i][s] = 1;
            }
        }
        return new Object[] {ids, pos, m};
    }

    static int[][] columns(int[][] x, int from, int to) {
        int[][] y = new int[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = Arrays.copyOfRange(x[i], from, to);
        }
        return y;
    }

    @ParameterizedTest
    @MethodSource("variants")
    void cachedStepsMatchTheWholeSequenceAndTheReference(ModelConfig c) {
        int lmax = 5;
        int steps = NEXT[0].length;
        int total = lmax + steps;
        int b = PROMPTS.length;
        int v = c.vocabSize();
        Object[] all = layout(total);
        int[][] ids = (int[][]) all[0];
        int[][] pos = (int[][]) all[1];
        float[][] mask = (float[][]) all[2];
        try (Fixture f = new Fixture(c)) {
            // cached: the padded prompts with an empty cache, then one token per step
            float[][][] cachedAt = new float[b][total][]; // logits per row and slot
            Result previous = null;
            try {
                for (int step = 0; step <= steps; step++) {
                    int from = step == 0 ? 0 : lmax + step - 1;
                    int to = lmax + step;
                    float[][] m = new float[b][];
                    for (int i = 0; i < b; i++) {
                        m[i] = Arrays.copyOf(mask[i], to);
                    }
                    List<Tensor> owned = new ArrayList<>();
                    try (TInt32 t = Tensors.ints(columns(ids, from, to));
                            TInt32 p = Tensors.ints(columns(pos, from, to));
                            TFloat32 mk = Tensors.floats(m)) {
                        Session.Runner r = f.session.runner().feed(f.tokens, t).feed(f.positions, p).feed(f.mask, mk);
                        for (int l = 0; l < c.layers(); l++) {
                            if (previous == null) {
                                TFloat32 empty = TFloat32.tensorOf(Shape.of(b, c.kvHeads(), 0, c.headSize()));
                                owned.add(empty);
                                r.feed(f.pastK.get(l), empty).feed(f.pastV.get(l), empty);
                            } else { // the fetched tensors, fed back as they are
                                r.feed(f.pastK.get(l), previous.get(1 + 2 * l));
                                r.feed(f.pastV.get(l), previous.get(2 + 2 * l));
                            }
                        }
                        r.fetch(f.cachedLogits);
                        for (int l = 0; l < c.layers(); l++) {
                            r.fetch(f.cached.present().keys().get(l)).fetch(f.cached.present().values().get(l));
                        }
                        Result res = r.run();
                        if (previous != null) {
                            previous.close();
                        }
                        previous = res;
                        TFloat32 keys = (TFloat32) res.get(1);
                        assertArrayEquals(new long[] {b, c.kvHeads(), to, c.headSize()}, keys.shape().asArray());
                        float[] lg = Tensors.values((TFloat32) res.get(0)); // [B, to - from, V]
                        for (int i = 0; i < b; i++) {
                            for (int s = from; s < to; s++) {
                                int k = (i * (to - from) + (s - from)) * v;
                                cachedAt[i][s] = Arrays.copyOfRange(lg, k, k + v);
                            }
                        }
                    } finally {
                        owned.forEach(Tensor::close);
                    }
                }
            } finally {
                if (previous != null) {
                    previous.close();
                }
            }

            // (a) the whole padded sequence in one pass (no cache), same positions and mask
            float[] full;
            try (TInt32 t = Tensors.ints(ids); TInt32 p = Tensors.ints(pos); TFloat32 mk = Tensors.floats(mask);
                    Result res = f.session.runner().feed(f.tokens, t).feed(f.positions, p).feed(f.mask, mk)
                            .fetch(f.fullLogits).run()) {
                full = Tensors.values((TFloat32) res.get(0)); // [B, total, V]
            }
            double maxAbs = 0;
            for (int i = 0; i < b; i++) {
                for (int s = lmax - PROMPTS[i].length; s < total; s++) { // real slots
                    for (int k = 0; k < v; k++) {
                        maxAbs = Math.max(maxAbs, Math.abs(cachedAt[i][s][k] - full[(i * total + s) * v + k]));
                    }
                }
            }
            System.out.printf("%s: max |cached - whole sequence| over the logits = %.3g%n", c, maxAbs);
            assertTrue(maxAbs <= 1e-4, c + ": max |cached - whole sequence| over the logits = " + maxAbs);

            // (b) each row alone, unpadded, in double precision
            Map<String, TensorData> weights = f.model.read(f.session);
            ReferenceDecoder ref = new ReferenceDecoder(c, weights, "m.");
            for (int i = 0; i < b; i++) {
                int pad = lmax - PROMPTS[i].length;
                int[] row = Arrays.copyOfRange(ids[i], pad, total);
                double[][] want = ref.forward(new int[][] {row}, null).logits[0]; // [T_i][V]
                float[] got = new float[row.length * v];
                for (int s = 0; s < row.length; s++) {
                    System.arraycopy(cachedAt[i][pad + s], 0, got, s * v, v);
                }
                double err = Tensors.relErr(got, Tensors.flat(new double[][][] {want}));
                System.out.printf("row %d: ||cached - reference|| / ||reference|| = %.3g%n", i, err);
                assertTrue(err <= 1e-5, c + " row " + i + ": ||cached - reference|| / ||reference|| = " + err);
            }
        }
    }

    /** Explicit positions 0 .. T-1 give what the positionless forward gives on a right-padded batch. */
    @Test
    void explicitPositionsOfARightPaddedBatchEqualThePositionlessForward() {
        ModelConfig c = variants().findFirst().orElseThrow();
        try (Fixture f = new Fixture(c)) {
            Operand<TFloat32> plain = f.model.lmLogits(f.tf, f.model.hidden(f.tf, f.tokens, f.mask));
            int[][] ids = DecoderTransformerTest.TOKENS;
            float[][] mask = DecoderTransformerTest.MASK;
            int[][] pos = new int[ids.length][ids[0].length];
            for (int[] row : pos) {
                Arrays.setAll(row, j -> j);
            }
            try (TInt32 t = Tensors.ints(ids); TInt32 p = Tensors.ints(pos); TFloat32 mk = Tensors.floats(mask);
                    Result res = f.session.runner().feed(f.tokens, t).feed(f.positions, p).feed(f.mask, mk)
                            .fetch(f.fullLogits).fetch(plain).run()) {
                float[] a = Tensors.values((TFloat32) res.get(0));
                float[] bb = Tensors.values((TFloat32) res.get(1));
                assertEquals(a.length, bb.length);
                double maxAbs = 0;
                for (int k = 0; k < a.length; k++) {
                    maxAbs = Math.max(maxAbs, Math.abs(a[k] - bb[k]));
                }
                assertTrue(maxAbs <= 1e-6, "max |explicit - implicit positions| = " + maxAbs);
            }
        }
    }

    @Test
    void aPositionOutsideTheContextIsReported() {
        ModelConfig c = variants().findFirst().orElseThrow();
        try (Fixture f = new Fixture(c);
                TInt32 t = Tensors.ints(new int[][] {{1, 2}});
                TInt32 p = Tensors.ints(new int[][] {{CONTEXT - 1, CONTEXT}});
                TFloat32 mk = Tensors.floats(new float[][] {{1, 1}})) {
            Exception e = assertThrows(Exception.class, () -> f.session.runner().feed(f.tokens, t)
                    .feed(f.positions, p).feed(f.mask, mk).fetch(f.fullLogits).run().close());
            assertTrue(e.getMessage().contains("a position lies outside 0 .. model.context - 1 (model.context = "
                    + CONTEXT + ")"), e.getMessage());
        }
    }

    @Test
    void aCacheWithTheWrongNumberOfLayersIsRefused() {
        ModelConfig c = variants().findFirst().orElseThrow();
        try (Fixture f = new Fixture(c)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.model.hiddenCached(
                    f.tf, f.tokens, f.positions, f.mask, new KeyValueCache(List.of(f.pastK.get(0)),
                            List.of(f.pastV.get(0)))));
            assertTrue(e.getMessage().contains("1 layers, the model 2"), e.getMessage());
        }
    }
}
