package org.align4j.attention.window;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.attention.standard.StandardAttention;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@code sliding-window} against double-precision loops written here (outputs) and against the reference kernel
 * {@code mha} (outputs and the gradients of {@code sum(out * W)} with respect to Q, K and V), 1e-5 relative: batch 2,
 * several heads, odd lengths that end inside a chunk, chunks small enough that a sequence spans many, windows of one
 * key, of a chunk, and longer than the sequence, grouped and multi-query heads, ALiBi with six heads, key padding
 * (with a query that sees only padding), and the cached path at a non-zero offset.
 */
class SlidingWindowAttentionTest {

    /**
     * One call: {@code offset < 0} means no cache (training: the chunked path, {@code tq == tk}); otherwise the
     * queries sit at {@code offset ..} against {@code tk} keys.
     */
    record Call(long seed, int b, int h, int hkv, int tq, int tk, int d, int offset, int window, boolean causal,
            boolean mask, float[] slopes, boolean fixed) {
        static Call training(long seed, int b, int h, int hkv, int t, int d, int window) {
            return new Call(seed, b, h, hkv, t, t, d, -1, window, true, false, null, false);
        }

        static Call cached(long seed, int b, int h, int hkv, int tq, int tk, int d, int offset, int window) {
            return new Call(seed, b, h, hkv, tq, tk, d, offset, window, true, false, null, false);
        }

        Call padded() {
            return new Call(seed, b, h, hkv, tq, tk, d, offset, window, causal, true, slopes, fixed);
        }

        Call alibi(float... s) {
            return new Call(seed, b, h, hkv, tq, tk, d, offset, window, causal, mask, s, fixed);
        }

        Call bidirectional() {
            return new Call(seed, b, h, hkv, tq, tk, d, offset, window, false, mask, slopes, fixed);
        }

        Call staticShapes() {
            return new Call(seed, b, h, hkv, tq, tk, d, offset, window, causal, mask, slopes, true);
        }
    }

    /** The inputs of a call, drawn from its seed. */
    record Inputs(float[] q, float[] k, float[] v, float[] w, float[] mask) {
        static Inputs of(Call c) {
            SplittableRandom r = new SplittableRandom(c.seed());
            float[] mask = new float[c.b() * c.tk()];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = r.nextInt(4) == 0 ? 0f : 1f;
            }
            mask[0] = 0f; // batch 0's first key is padding: in training its first query sees nothing
            return new Inputs(draw(r, c.b() * c.h() * c.tq() * c.d()), draw(r, c.b() * c.hkv() * c.tk() * c.d()),
                    draw(r, c.b() * c.hkv() * c.tk() * c.d()), draw(r, c.b() * c.h() * c.tq() * c.d()), mask);
        }

        private static float[] draw(SplittableRandom r, int n) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (4 * r.nextDouble() - 2);
            }
            return x;
        }
    }

    /** The attention output, by loops over every query and key in double precision. */
    static double[] loops(Call c, Inputs in) {
        int group = c.h() / c.hkv();
        int start = Math.max(c.offset(), 0);
        double[] out = new double[c.b() * c.h() * c.tq() * c.d()];
        double scale = 1 / Math.sqrt(c.d());
        for (int b = 0; b < c.b(); b++) {
            for (int h = 0; h < c.h(); h++) {
                int kv = h / group; // query head h reads key/value head floor(h / (H / Hkv))
                for (int i = 0; i < c.tq(); i++) {
                    int pos = start + i;
                    double[] logit = new double[c.tk()];
                    boolean[] seen = new boolean[c.tk()];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c.tk(); j++) {
                        seen[j] = (!c.causal() || (j <= pos && (c.window() == 0 || pos - j < c.window())))
                                && (!c.mask() || in.mask()[b * c.tk() + j] > 0);
                        if (!seen[j]) {
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < c.d(); e++) {
                            dot += (double) in.q()[((b * c.h() + h) * c.tq() + i) * c.d() + e]
                                    * in.k()[((b * c.hkv() + kv) * c.tk() + j) * c.d() + e];
                        }
                        logit[j] = dot * scale - (c.slopes() == null ? 0 : c.slopes()[h] * Math.abs(pos - j));
                        max = Math.max(max, logit[j]);
                    }
                    double total = 0;
                    for (int j = 0; j < c.tk(); j++) {
                        logit[j] = seen[j] ? Math.exp(logit[j] - max) : 0;
                        total += logit[j];
                    }
                    for (int j = 0; j < c.tk() && total > 0; j++) {
                        for (int e = 0; e < c.d(); e++) {
                            out[((b * c.h() + h) * c.tq() + i) * c.d() + e] += logit[j] / total
                                    * in.v()[((b * c.hkv() + kv) * c.tk() + j) * c.d() + e];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Output, then d/dQ, d/dK, d/dV of {@code sum(out * W)}, from TensorFlow. */
    static float[][] graph(AttentionKernel kernel, Call c, Inputs x) {
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            long[][] shapes = {{c.b(), c.h(), c.tq(), c.d()}, {c.b(), c.hkv(), c.tk(), c.d()},
                {c.b(), c.hkv(), c.tk(), c.d()}, {c.b(), c.h(), c.tq(), c.d()}};
            float[][] data = {x.q(), x.k(), x.v(), x.w()};
            List<Placeholder<TFloat32>> in = new ArrayList<>();
            for (long[] shape : shapes) {
                in.add(tf.placeholder(TFloat32.class, Placeholder.shape(c.fixed() ? Shape.of(shape)
                        : Shape.of(-1, -1, -1, c.d()))));
            }
            Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TInt32> offset = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
            AttentionInputs inputs = AttentionInputs.of(in.get(0), in.get(1), in.get(2)).withCausal(c.causal())
                    .withWindow(c.window()).withAlibiSlopes(c.slopes());
            if (c.offset() >= 0) {
                inputs.withQueryOffset(offset);
            }
            if (c.mask()) {
                inputs.withKeyMask(mask);
            }
            Operand<TFloat32> out = kernel.attend(tf, inputs);
            Output<?>[] grads = g.addGradients(tf.reduceSum(tf.math.mul(out, in.get(3)),
                    tf.constant(new int[] {0, 1, 2, 3})).asOutput(),
                    new Output<?>[] {in.get(0).asOutput(), in.get(1).asOutput(), in.get(2).asOutput()});
            List<Tensor> owned = new ArrayList<>();
            try {
                Session.Runner run = s.runner().fetch(out).fetch(grads[0]).fetch(grads[1]).fetch(grads[2]);
                for (int i = 0; i < 4; i++) {
                    TFloat32 t = TFloat32.tensorOf(Shape.of(shapes[i]), DataBuffers.of(data[i], true, false));
                    owned.add(t);
                    run.feed(in.get(i), t);
                }
                if (c.mask()) {
                    TFloat32 t = TFloat32.tensorOf(Shape.of(c.b(), c.tk()), DataBuffers.of(x.mask(), true, false));
                    owned.add(t);
                    run.feed(mask, t);
                }
                if (c.offset() >= 0) {
                    TInt32 t = TInt32.scalarOf(c.offset());
                    owned.add(t);
                    run.feed(offset, t);
                }
                try (Result r = run.run()) {
                    float[][] got = new float[4][];
                    for (int i = 0; i < 4; i++) {
                        TFloat32 t = (TFloat32) r.get(i);
                        got[i] = new float[(int) t.shape().size()];
                        t.copyTo(DataBuffers.of(got[i], false, false));
                    }
                    return got;
                }
            } finally {
                owned.forEach(Tensor::close);
            }
        }
    }

    private static double error(float[] got, double[] want) {
        assertEquals(want.length, got.length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < got.length; i++) {
            diff += (got[i] - want[i]) * (got[i] - want[i]);
            norm += want[i] * want[i];
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }

    private static double[] widen(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    /** Chunks of at least {@code minChunk} positions: the output against the loops, gradients against mha. */
    private static float[] check(int minChunk, Call c) {
        Inputs x = Inputs.of(c);
        float[][] got = graph(new SlidingWindowAttention(minChunk), c, x);
        double[] want = loops(c, x);
        double outErr = error(got[0], want);
        assertTrue(outErr <= 1e-5, c + " (chunks of " + minChunk + "+): output error " + outErr);
        float[][] ref = graph(new StandardAttention(), c, x);
        String[] names = {"d/dQ", "d/dK", "d/dV"};
        for (int i = 1; i < 4; i++) {
            double[] r = widen(ref[i]);
            double norm = 0;
            for (double v : r) {
                norm += v * v;
            }
            // a window of one key gives each query a single weight of 1: no gradient reaches Q or K in either kernel
            double err = norm == 0 ? Math.sqrt(sumSq(got[i])) : error(got[i], r);
            assertTrue(err <= 1e-5, c + " (chunks of " + minChunk + "+): " + names[i - 1] + " error " + err);
        }
        return got[0];
    }

    private static double sumSq(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return s;
    }

    @Test
    void trainingWindowsAcrossChunkEdgesMatchTheLoops() {
        for (int chunk : new int[] {2, 3, 4}) {
            check(chunk, Call.training(1, 2, 4, 4, 7, 8, 1)); // W = 1: each query sees only itself
            check(chunk, Call.training(2, 2, 4, 4, 9, 8, 2));
            check(chunk, Call.training(3, 2, 4, 4, 11, 8, 3));
            check(chunk, Call.training(4, 2, 4, 4, 5, 8, 9)); // W >= T: plain causal attention
        }
        check(1, Call.training(5, 2, 2, 2, 6, 4, 1)); // chunks of one position
        check(SlidingWindowAttention.MIN_CHUNK, Call.training(6, 2, 4, 4, 70, 8, 5)); // the default: three chunks
        check(3, Call.training(7, 2, 4, 4, 10, 8, 3).staticShapes());
    }

    @Test
    void groupedHeadsAlibiAndPaddingMatchTheLoops() {
        check(3, Call.training(8, 2, 6, 2, 7, 8, 3)); // query head h reads key/value head h / 3
        check(2, Call.training(9, 2, 4, 1, 9, 8, 2)); // multi-query
        check(2, Call.training(10, 2, 6, 3, 9, 4, 2).staticShapes());
        float[] slopes = {0.5f, 0.25f, 0.125f, 0.0625f, 0.70710677f, 0.35355338f}; // six heads: not a power of two
        check(3, Call.training(11, 2, 6, 6, 8, 4, 3).alibi(slopes));
        check(2, Call.training(12, 2, 6, 2, 9, 4, 4).alibi(slopes).padded());
        float[] out = check(3, Call.training(13, 2, 4, 2, 7, 8, 3).padded());
        for (int h = 0; h < 4; h++) { // batch 0, query 0: its only key is padding, so it gets zeros, not NaN
            for (int e = 0; e < 8; e++) {
                assertEquals(0f, out[h * 7 * 8 + e], "head " + h);
            }
        }
    }

    @Test
    void cachedDecodingReadsOnlyTheKeysItsWindowReaches() {
        check(2, Call.cached(14, 2, 4, 4, 3, 9, 8, 6, 2)); // 6 cached keys, 3 new queries, W = 2
        check(2, Call.cached(15, 2, 4, 2, 1, 12, 8, 11, 4)); // one decoding step, grouped heads
        check(2, Call.cached(16, 2, 4, 1, 2, 5, 8, 3, 9).padded()); // the window reaches past key 0
        check(2, Call.cached(17, 2, 6, 3, 3, 8, 4, 5, 3).alibi(1f, 0.5f, 0.25f, 2f, 0.1f, 0.3f));
        check(2, Call.cached(18, 2, 4, 4, 4, 4, 8, 0, 3)); // a prompt at offset 0
    }

    @Test
    void withoutAWindowItIsPlainAttention() {
        check(2, Call.training(19, 2, 4, 2, 7, 8, 0));
        check(2, Call.cached(20, 2, 4, 4, 3, 7, 8, 4, 0).padded());
        check(2, Call.cached(21, 2, 4, 2, 3, 5, 8, 0, 0).bidirectional().padded().alibi(1f, 0.5f, 2f, 0.1f));
    }

    @Test
    void itRefusesWhatTheReferenceRefuses() {
        Call heads = Call.training(22, 1, 6, 4, 3, 4, 2).staticShapes();
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> graph(new SlidingWindowAttention(), heads, Inputs.of(heads)));
        assertTrue(e.getMessage().contains("6 query heads cannot share 4 key heads"), e.getMessage());
        Call window = Call.cached(23, 1, 2, 2, 3, 3, 4, 0, 2).bidirectional();
        e = assertThrows(IllegalArgumentException.class,
                () -> graph(new SlidingWindowAttention(), window, Inputs.of(window)));
        assertTrue(e.getMessage().contains("a window (2 keys) needs causal attention"), e.getMessage());
        Call slopes = Call.training(24, 1, 4, 4, 3, 4, 2).staticShapes().alibi(1f, 2f);
        e = assertThrows(IllegalArgumentException.class,
                () -> graph(new SlidingWindowAttention(), slopes, Inputs.of(slopes)));
        assertTrue(e.getMessage().contains("2 ALiBi slopes for 4 query heads"), e.getMessage());
    }
}
