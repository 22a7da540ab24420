package org.align4j.attention.fast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

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
 * {@code mha-fast} against loops in double precision (outputs) and the reference kernel {@code mha} on random inputs
 * (outputs and the gradients of {@code sum(out * W)} with respect to Q, K and V), 1e-5 relative, for batch 2, several
 * heads, odd lengths, grouped and
 * multi-query heads, a KV cache offset, key padding (with a row that sees only padding), windows, ALiBi and a
 * non-causal call with its own scale. (The reference kernel itself is checked against double-precision loops and
 * finite differences in its own bundle.)
 */
class FastAttentionTest {

    /** Sizes and options of one call. */
    record Case(long seed, int b, int h, int hkv, int tq, int tk, int d, int offset, boolean causal, boolean mask,
            int window, float[] slopes, Float scale, boolean staticShapes) {
        static Case of(long seed, int b, int h, int hkv, int tq, int tk, int d, int offset) {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, true, false, 0, null, null, false);
        }

        Case masked() {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, causal, true, window, slopes, scale, staticShapes);
        }

        Case window(int w) {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, causal, mask, w, slopes, scale, staticShapes);
        }

        Case alibi(float... s) {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, causal, mask, window, s, scale, staticShapes);
        }

        Case bidirectional(float s) {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, false, mask, window, slopes, s, staticShapes);
        }

        Case fixedShapes() {
            return new Case(seed, b, h, hkv, tq, tk, d, offset, causal, mask, window, slopes, scale, true);
        }
    }

    /** Output and gradients of one kernel on one case. */
    record Run(float[] out, float[] dq, float[] dk, float[] dv) {
    }

    private static float[] random(SplittableRandom r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(lo, hi);
        }
        return x;
    }

    /** Q, K, V, the output weights W and the key mask of a case, from its seed. */
    static float[][] inputs(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed());
        float[] q = random(r, c.b() * c.h() * c.tq() * c.d(), -2, 2);
        float[] k = random(r, c.b() * c.hkv() * c.tk() * c.d(), -2, 2);
        float[] v = random(r, c.b() * c.hkv() * c.tk() * c.d(), -2, 2);
        float[] w = random(r, c.b() * c.h() * c.tq() * c.d(), -1, 1);
        float[] mask = new float[c.b() * c.tk()];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = r.nextDouble() < 0.3 ? 0f : 1f;
        }
        mask[0] = 0f; // batch 0, key 0 hidden: with no offset its query 0 sees nothing at all
        mask[c.tk() - 1] = 1f;
        return new float[][] {q, k, v, w, mask};
    }

    /**
     * The attention output of a case in double precision, one (batch, head) block at a time: the logits of every
     * visible key, their softmax, the weighted sum of the values; a query that sees no key gets zeros.
     */
    static double[] inDouble(Case c) {
        float[][] x = inputs(c);
        int perGroup = c.h() / c.hkv();
        double scale = c.scale() != null ? c.scale() : 1 / Math.sqrt(c.d());
        double[] out = new double[x[0].length];
        for (int block = 0; block < c.b() * c.h(); block++) {
            int b = block / c.h();
            int head = block % c.h();
            int kv = b * c.hkv() + head / perGroup; // the key/value head of this query head
            for (int i = 0; i < c.tq(); i++) {
                int at = Math.max(c.offset(), 0) + i; // the query's position
                double[] weight = new double[c.tk()];
                double top = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c.tk(); j++) {
                    boolean hidden = c.causal() && (j > at || (c.window() > 0 && at - j >= c.window()))
                            || c.mask() && x[4][b * c.tk() + j] == 0f;
                    double logit = Double.NEGATIVE_INFINITY;
                    if (!hidden) {
                        logit = 0;
                        for (int e = 0; e < c.d(); e++) {
                            logit += x[0][(block * c.tq() + i) * c.d() + e] * (double) x[1][(kv * c.tk() + j) * c.d()
                                    + e];
                        }
                        logit = logit * scale - (c.slopes() == null ? 0 : c.slopes()[head] * Math.abs(at - j));
                    }
                    weight[j] = logit;
                    top = Math.max(top, logit);
                }
                if (top == Double.NEGATIVE_INFINITY) {
                    continue; // sees nothing: zeros
                }
                double total = 0;
                for (int j = 0; j < c.tk(); j++) {
                    weight[j] = Math.exp(weight[j] - top);
                    total += weight[j];
                }
                for (int j = 0; j < c.tk(); j++) {
                    for (int e = 0; e < c.d(); e++) {
                        out[(block * c.tq() + i) * c.d() + e] += weight[j] / total * x[2][(kv * c.tk() + j) * c.d()
                                + e];
                    }
                }
            }
        }
        return out;
    }

    static Run run(AttentionKernel kernel, Case c) {
        float[][] x = inputs(c);
        float[] q = x[0];
        float[] k = x[1];
        float[] v = x[2];
        float[] w = x[3];
        float[] mask = x[4];
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            UnaryOperator<Shape> shape = s -> c.staticShapes() ? s : Shape.of(-1, -1, -1, c.d());
            Placeholder<TFloat32> qp = tf.placeholder(TFloat32.class,
                    Placeholder.shape(shape.apply(Shape.of(c.b(), c.h(), c.tq(), c.d()))));
            Placeholder<TFloat32> kp = tf.placeholder(TFloat32.class,
                    Placeholder.shape(shape.apply(Shape.of(c.b(), c.hkv(), c.tk(), c.d()))));
            Placeholder<TFloat32> vp = tf.placeholder(TFloat32.class,
                    Placeholder.shape(shape.apply(Shape.of(c.b(), c.hkv(), c.tk(), c.d()))));
            Placeholder<TInt32> offset = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> mp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TFloat32> wp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, -1, -1)));
            AttentionInputs in = AttentionInputs.of(qp, kp, vp).withCausal(c.causal())
                    .withWindow(c.window()).withAlibiSlopes(c.slopes());
            if (c.offset() >= 0) { // a negative offset: a whole sequence, as in training (no cache)
                in.withQueryOffset(offset);
            }
            if (c.mask()) {
                in.withKeyMask(mp);
            }
            if (c.scale() != null) {
                in.withScale(c.scale());
            }
            Operand<TFloat32> out = kernel.attend(tf, in);
            Operand<TFloat32> objective = tf.reduceSum(tf.math.mul(out, wp), tf.constant(new int[] {0, 1, 2, 3}));
            Output<?>[] grads = g.addGradients(objective.asOutput(),
                    new Output<?>[] {qp.asOutput(), kp.asOutput(), vp.asOutput()});
            List<Tensor> feeds = new ArrayList<>();
            try (Session s = new Session(g)) {
                Session.Runner runner = s.runner()
                        .feed(qp, keep(feeds, tensor(q, c.b(), c.h(), c.tq(), c.d())))
                        .feed(kp, keep(feeds, tensor(k, c.b(), c.hkv(), c.tk(), c.d())))
                        .feed(vp, keep(feeds, tensor(v, c.b(), c.hkv(), c.tk(), c.d())))
                        .feed(wp, keep(feeds, tensor(w, c.b(), c.h(), c.tq(), c.d())))
                        .fetch(out).fetch(grads[0]).fetch(grads[1]).fetch(grads[2]);
                if (c.mask()) {
                    runner.feed(mp, keep(feeds, tensor(mask, c.b(), c.tk())));
                }
                if (c.offset() >= 0) {
                    runner.feed(offset, keep(feeds, TInt32.scalarOf(c.offset())));
                }
                try (Result res = runner.run()) {
                    return new Run(values(res.get(0)), values(res.get(1)), values(res.get(2)), values(res.get(3)));
                }
            } finally {
                feeds.forEach(Tensor::close);
            }
        }
    }

    private static <T extends Tensor> T keep(List<Tensor> all, T t) {
        all.add(t);
        return t;
    }

    private static TFloat32 tensor(float[] x, long... shape) {
        return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x, true, false));
    }

    private static float[] values(Tensor t) {
        float[] x = new float[(int) t.shape().size()];
        ((TFloat32) t).copyTo(DataBuffers.of(x, false, false));
        return x;
    }

    private static double relErr(float[] got, float[] want) {
        assertEquals(want.length, got.length, "length");
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (double) (got[i] - want[i]) * (got[i] - want[i]);
            den += (double) want[i] * want[i];
        }
        // a window of one key gives every query a single weight of 1: no gradient reaches Q or K, in either kernel
        return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
    }

    private static void same(Case c) {
        Run want = run(new StandardAttention(), c);
        Run got = run(new FastAttention(), c);
        String[] names = {"out", "d/dQ", "d/dK", "d/dV"};
        float[][] w = {want.out(), want.dq(), want.dk(), want.dv()};
        float[][] g = {got.out(), got.dq(), got.dk(), got.dv()};
        assertTrue(relErr(want.out(), new float[want.out().length]) > 0, c + ": the output is all zero");
        double[] exact = inDouble(c); // and the output against loops in double precision, not only against mha
        float[] rounded = new float[exact.length];
        for (int i = 0; i < exact.length; i++) {
            rounded[i] = (float) exact[i];
        }
        double vsLoops = relErr(got.out(), rounded);
        assertTrue(vsLoops <= 1e-5, c + " out: ||fast - double loops|| / ||loops|| = " + vsLoops);
        for (int i = 0; i < 4; i++) {
            double err = relErr(g[i], w[i]);
            assertTrue(err <= 1e-5, c + " " + names[i] + ": ||fast - mha|| / ||mha|| = " + err);
        }
    }

    @Test
    void causalAndCachedAttentionAsTheReference() {
        same(Case.of(1, 2, 4, 4, 7, 7, 8, 0));
        same(Case.of(2, 2, 4, 4, 3, 9, 8, 6)); // 6 cached keys, 3 new queries
        same(Case.of(3, 1, 2, 2, 1, 5, 4, 4)); // one decoding step
        same(Case.of(4, 2, 4, 4, 5, 5, 8, 0).fixedShapes());
    }

    @Test
    void groupedAndMultiQueryHeadsAsTheReference() {
        same(Case.of(5, 2, 6, 2, 5, 5, 8, 0));
        same(Case.of(6, 2, 4, 1, 3, 7, 8, 4).masked());
        same(Case.of(7, 2, 6, 3, 5, 5, 4, 0).fixedShapes());
    }

    @Test
    void wholeSequencesWithGroupedHeadsAsTheReference() {
        // no cache offset: the kernel repeats the key/value heads and takes its plain path
        same(Case.of(21, 2, 6, 2, 7, 7, 8, -1));
        same(Case.of(22, 2, 4, 1, 9, 9, 8, -1).masked().window(3));
        same(Case.of(23, 2, 6, 3, 5, 5, 4, -1).alibi(0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f)
                .fixedShapes());
        same(Case.of(24, 2, 4, 2, 5, 5, 8, -1).bidirectional(0.5f).masked());
    }

    @Test
    void paddingWindowsAndAlibiAsTheReference() {
        Case masked = Case.of(8, 2, 4, 2, 5, 5, 8, 0).masked(); // batch 0's query 0 sees only padding: zeros
        same(masked);
        float[] out = run(new FastAttention(), masked).out();
        for (int h = 0; h < 4; h++) {
            for (int e = 0; e < 8; e++) {
                assertEquals(0f, out[(h * 5) * 8 + e], "fully masked row, head " + h);
            }
        }
        same(Case.of(9, 2, 4, 2, 7, 7, 8, 0).window(1));
        same(Case.of(10, 2, 4, 4, 7, 7, 8, 0).window(3).masked());
        same(Case.of(11, 2, 4, 2, 2, 6, 8, 4).window(2));
        same(Case.of(12, 2, 6, 3, 5, 5, 4, 0).alibi(0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f));
        same(Case.of(13, 2, 6, 2, 3, 7, 4, 4).alibi(1f, 0.5f, 0.25f, 2f, 0.1f, 0.3f).window(3).masked());
        same(Case.of(14, 2, 4, 2, 3, 5, 8, 0).bidirectional(0.5f).masked().alibi(1f, 0.5f, 2f, 0.1f));
        // with the head counts known and equal, the kernel takes its plain path (no regrouping): the same again
        same(Case.of(18, 2, 4, 4, 7, 7, 8, 0).window(3).masked().fixedShapes());
        same(Case.of(19, 2, 6, 6, 3, 7, 4, 4).alibi(0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f).masked()
                .fixedShapes());
        same(Case.of(20, 2, 4, 4, 3, 5, 8, 0).bidirectional(0.5f).masked().alibi(1f, 0.5f, 2f, 0.1f).fixedShapes());
    }

    @Test
    void itRefusesWhatTheReferenceRefuses() {
        Case heads = Case.of(15, 1, 6, 4, 2, 2, 4, 0).fixedShapes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(new FastAttention(),
                heads));
        assertTrue(e.getMessage().contains("6 query heads cannot share 4 key heads"), e.getMessage());
        Case window = Case.of(16, 1, 2, 2, 3, 3, 4, 0).bidirectional(1f).window(2);
        e = assertThrows(IllegalArgumentException.class, () -> run(new FastAttention(), window));
        assertTrue(e.getMessage().contains("a window (2 keys) needs causal attention"), e.getMessage());
        Case slopes = Case.of(17, 1, 4, 4, 2, 2, 4, 0).fixedShapes().alibi(1f, 2f);
        e = assertThrows(IllegalArgumentException.class, () -> run(new FastAttention(), slopes));
        assertTrue(e.getMessage().contains("2 ALiBi slopes for 4 query heads"), e.getMessage());
    }
}
