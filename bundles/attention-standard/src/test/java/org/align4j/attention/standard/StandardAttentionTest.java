package org.align4j.attention.standard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.attention.AttentionInputs;
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
 * {@link StandardAttention} against a double-precision loop reference written here, and its gradients against central
 * finite differences of that reference.
 */
class StandardAttentionTest {

    /** One attention problem: sizes, masks and random inputs (row-major, as the graph receives them). */
    static final class Case {
        final int b, h, hkv, tq, tk, d, offset;
        final boolean causal;
        final Float scale;
        final float[] q, k, v, mask; // mask [B, Tk] or null
        final boolean staticShapes;
        int window; // 0: none
        float[] slopes; // ALiBi, one per query head, or null

        Case window(int w) {
            window = w;
            return this;
        }

        Case alibi(float... s) {
            slopes = s;
            return this;
        }

        Case(long seed, int b, int h, int hkv, int tq, int tk, int d, int offset, boolean causal, Float scale,
                boolean withMask, boolean staticShapes) {
            this.b = b;
            this.h = h;
            this.hkv = hkv;
            this.tq = tq;
            this.tk = tk;
            this.d = d;
            this.offset = offset;
            this.causal = causal;
            this.scale = scale;
            this.staticShapes = staticShapes;
            SplittableRandom r = new SplittableRandom(seed);
            q = normal(r, b * h * tq * d);
            k = normal(r, b * hkv * tk * d);
            v = normal(r, b * hkv * tk * d);
            if (withMask) {
                mask = new float[b * tk];
                for (int i = 0; i < mask.length; i++) {
                    mask[i] = r.nextDouble() < 0.3 ? 0f : 1f;
                }
                mask[0] = 0f; // batch 0: key 0 hidden, so query 0 (offset 0, causal) sees nothing at all
                mask[tk - 1] = 1f;
            } else {
                mask = null;
            }
        }

        private static float[] normal(SplittableRandom r, int n) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (r.nextDouble(-2, 2));
            }
            return x;
        }
    }

    /** softmax(Q K^T * scale) V over the visible keys, in double; rows with no visible key give 0. */
    static double[] reference(Case c, double[] q, double[] k, double[] v) {
        double[] out = new double[c.b * c.h * c.tq * c.d];
        int group = c.h / c.hkv;
        double scale = c.scale != null ? c.scale : 1.0 / Math.sqrt(c.d);
        for (int b = 0; b < c.b; b++) {
            for (int h = 0; h < c.h; h++) {
                int g = h / group;
                for (int i = 0; i < c.tq; i++) {
                    double[] s = new double[c.tk];
                    boolean[] visible = new boolean[c.tk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c.tk; j++) {
                        int distance = c.offset + i - j; // query position - key position
                        visible[j] = (!c.causal || distance >= 0) && (c.window == 0 || distance < c.window)
                                && (c.mask == null || c.mask[b * c.tk + j] > 0);
                        if (!visible[j]) {
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < c.d; e++) {
                            dot += q[((b * c.h + h) * c.tq + i) * c.d + e] * k[((b * c.hkv + g) * c.tk + j) * c.d + e];
                        }
                        s[j] = dot * scale - (c.slopes == null ? 0 : c.slopes[h] * Math.abs(distance));
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < c.tk; j++) {
                        if (visible[j]) {
                            s[j] = Math.exp(s[j] - max);
                            z += s[j];
                        }
                    }
                    for (int j = 0; j < c.tk; j++) {
                        if (!visible[j]) {
                            continue;
                        }
                        for (int e = 0; e < c.d; e++) {
                            out[((b * c.h + h) * c.tq + i) * c.d + e] += s[j] / z
                                    * v[((b * c.hkv + g) * c.tk + j) * c.d + e];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** What one graph run gives: the output and, when asked, d(sum(out * weights))/d{Q, K, V}. */
    static final class Run {
        float[] out, dq, dk, dv;
    }

    static Run runGraph(Case c, float[] outWeights) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> q = tf.placeholder(TFloat32.class, Placeholder.shape(
                    c.staticShapes ? Shape.of(c.b, c.h, c.tq, c.d) : Shape.of(-1, -1, -1, c.d)));
            Placeholder<TFloat32> k = tf.placeholder(TFloat32.class, Placeholder.shape(
                    c.staticShapes ? Shape.of(c.b, c.hkv, c.tk, c.d) : Shape.of(-1, -1, -1, c.d)));
            Placeholder<TFloat32> v = tf.placeholder(TFloat32.class, Placeholder.shape(
                    c.staticShapes ? Shape.of(c.b, c.hkv, c.tk, c.d) : Shape.of(-1, -1, -1, c.d)));
            Placeholder<TInt32> offset = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            AttentionInputs in = AttentionInputs.of(q, k, v).withCausal(c.causal).withQueryOffset(offset);
            if (c.mask != null) {
                in.withKeyMask(mask);
            }
            if (c.scale != null) {
                in.withScale(c.scale);
            }
            in.withWindow(c.window).withAlibiSlopes(c.slopes);
            Operand<TFloat32> out = new StandardAttention().attend(tf, in);
            Output<?>[] grads = null;
            Placeholder<TFloat32> w = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, -1, -1)));
            if (outWeights != null) {
                Operand<TFloat32> objective = tf.reduceSum(tf.math.mul(out, w), tf.constant(new int[] {0, 1, 2, 3}));
                grads = g.addGradients(objective.asOutput(), new Output<?>[] {q.asOutput(), k.asOutput(),
                        v.asOutput()});
            }
            List<Tensor> feeds = new ArrayList<>();
            try (Session s = new Session(g)) {
                Session.Runner runner = s.runner()
                        .feed(q, track(feeds, tensor(c.q, c.b, c.h, c.tq, c.d)))
                        .feed(k, track(feeds, tensor(c.k, c.b, c.hkv, c.tk, c.d)))
                        .feed(v, track(feeds, tensor(c.v, c.b, c.hkv, c.tk, c.d)))
                        .feed(offset, track(feeds, TInt32.scalarOf(c.offset)))
                        .fetch(out);
                if (c.mask != null) {
                    runner.feed(mask, track(feeds, tensor(c.mask, c.b, c.tk)));
                }
                if (grads != null) {
                    runner.feed(w, track(feeds, tensor(outWeights, c.b, c.h, c.tq, c.d)));
                    for (Output<?> gr : grads) {
                        runner.fetch(gr);
                    }
                }
                try (Result r = runner.run()) {
                    Run run = new Run();
                    run.out = values((TFloat32) r.get(0));
                    if (grads != null) {
                        run.dq = values((TFloat32) r.get(1));
                        run.dk = values((TFloat32) r.get(2));
                        run.dv = values((TFloat32) r.get(3));
                    }
                    return run;
                }
            } finally {
                feeds.forEach(Tensor::close);
            }
        }
    }

    private static <T extends Tensor> T track(List<Tensor> all, T t) {
        all.add(t);
        return t;
    }

    static TFloat32 tensor(float[] values, long... shape) {
        return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
    }

    static float[] values(TFloat32 t) {
        float[] x = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(x, false, false));
        return x;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    static double relErr(float[] actual, double[] expected) {
        assertEquals(expected.length, actual.length, "length");
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }
        assertTrue(den > 0, "reference is all zero: the case tests nothing");
        return Math.sqrt(num / den);
    }

    private static double checkForward(Case c) {
        double[] ref = reference(c, toDouble(c.q), toDouble(c.k), toDouble(c.v));
        double err = relErr(runGraph(c, null).out, ref);
        assertTrue(err <= 1e-5, "||out - ref|| / ||ref|| = " + err);
        return err;
    }

    @Test
    void causalSelfAttentionMatchesReference() {
        checkForward(new Case(1, 2, 4, 4, 6, 6, 8, 0, true, null, false, false));
    }

    @Test
    void staticShapesGiveTheSameAsDynamicOnes() {
        checkForward(new Case(2, 2, 4, 4, 6, 6, 8, 0, true, null, false, true));
        checkForward(new Case(2, 2, 4, 2, 6, 6, 8, 0, true, null, true, true));
    }

    @Test
    void queryOffsetWithLongerKeysAsAKvCacheGives() {
        // 3 cached positions + 2 new queries: query i sits at position 3 + i and sees keys 0 .. 3 + i
        checkForward(new Case(3, 2, 4, 4, 2, 5, 8, 3, true, null, false, false));
        // and a single decoding step
        checkForward(new Case(4, 1, 2, 2, 1, 7, 4, 6, true, null, false, false));
    }

    @Test
    void keyMaskHidesPaddingAndAFullyMaskedRowIsZero() {
        Case c = new Case(5, 2, 4, 4, 5, 5, 8, 0, true, null, true, false);
        checkForward(c);
        float[] out = runGraph(c, null).out;
        for (int h = 0; h < c.h; h++) { // batch 0, query 0 sees only key 0, which is padding
            for (int e = 0; e < c.d; e++) {
                assertEquals(0f, out[(h * c.tq) * c.d + e], "fully masked row, head " + h);
            }
        }
    }

    @Test
    void groupedQueryHeadsShareKeyValueHeads() {
        checkForward(new Case(6, 2, 6, 2, 4, 4, 8, 0, true, null, false, false));
        checkForward(new Case(7, 2, 4, 1, 3, 6, 8, 3, true, null, true, false));
    }

    @Test
    void aSlidingWindowSeesItsLastWKeysAtItsEdges() {
        // W = 1: each query sees only itself; odd lengths, two batches, grouped heads
        checkForward(new Case(12, 2, 4, 2, 7, 7, 8, 0, true, null, false, false).window(1));
        checkForward(new Case(13, 2, 4, 4, 7, 7, 8, 0, true, null, true, false).window(3));
        // W >= T: the window hides nothing, so the output is plain causal attention's
        Case wide = new Case(14, 2, 4, 4, 5, 5, 8, 0, true, null, false, false).window(5);
        Case plain = new Case(14, 2, 4, 4, 5, 5, 8, 0, true, null, false, false);
        checkForward(wide);
        assertArrayEquals(runGraph(plain, null).out, runGraph(wide, null).out);
        checkForward(new Case(14, 2, 4, 4, 5, 5, 8, 0, true, null, false, false).window(50));
        // a KV cache: queries at positions 4 and 5 over 6 keys, each sees keys 3 .. its own (W = 2: 2 keys)
        checkForward(new Case(15, 2, 4, 1, 2, 6, 8, 4, true, null, false, false).window(2));
        checkForward(new Case(16, 1, 2, 2, 1, 9, 4, 8, true, null, true, false).window(3));
    }

    @Test
    void alibiSubtractsEachHeadsSlopeTimesTheDistance() {
        // six heads (not a power of two) with slopes as the model computes them for 6, odd lengths
        float[] six = {0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f};
        checkForward(new Case(17, 2, 6, 6, 5, 5, 4, 0, true, null, false, false).alibi(six));
        checkForward(new Case(18, 2, 6, 3, 3, 7, 4, 4, true, null, true, false).alibi(six)); // cached, grouped
        checkForward(new Case(19, 2, 6, 2, 5, 5, 4, 0, true, null, false, false).alibi(six).window(2));
        checkForward(new Case(20, 2, 4, 2, 3, 5, 8, 0, false, null, true, false).alibi(1f, 0.5f, 2f, 0.1f));
        Case wrong = new Case(21, 1, 4, 4, 2, 2, 4, 0, true, null, false, true).alibi(1f, 0.5f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runGraph(wrong, null));
        assertTrue(e.getMessage().contains("2 ALiBi slopes for 4 query heads"), e.getMessage());
    }

    @Test
    void aWindowWithoutCausalAttentionIsRefused() {
        Case c = new Case(22, 1, 2, 2, 3, 3, 4, 0, false, null, false, false).window(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runGraph(c, null));
        assertTrue(e.getMessage().contains("a window (2 keys) needs causal attention"), e.getMessage());
    }

    @Test
    void nonCausalWithScaleAndMask() {
        checkForward(new Case(8, 2, 4, 2, 3, 5, 8, 0, false, 0.5f, true, false));
    }

    @Test
    void headsThatDoNotDivideAreRejectedWhenKnown() {
        Case c = new Case(9, 1, 6, 4, 2, 2, 4, 0, true, null, false, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runGraph(c, null));
        assertTrue(e.getMessage().contains("6 query heads cannot share 4 key heads"), e.getMessage());
    }

    /**
     * The graph's gradients of {@code L = sum(out * W)} with respect to Q, K and V against central differences of the
     * double-precision reference (step 1e-5, truncation error ~1e-10): this checks TensorFlow's backward pass through
     * the masks, the head repetition and the softmax against an independent derivative.
     */
    @Test
    void gradientsMatchCentralDifferencesOfTheReference() {
        checkGradients(new Case(10, 2, 4, 2, 3, 5, 4, 2, true, null, true, false));
        checkGradients(new Case(23, 2, 4, 2, 3, 5, 4, 2, true, null, true, false).window(2)
                .alibi(0.5f, 0.25f, 1f, 2f));
    }

    private static void checkGradients(Case c) {
        SplittableRandom r = new SplittableRandom(11);
        float[] w = new float[c.b * c.h * c.tq * c.d];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextDouble(-1, 1);
        }
        Run run = runGraph(c, w);
        double[] q = toDouble(c.q);
        double[] k = toDouble(c.k);
        double[] v = toDouble(c.v);
        double[][] inputs = {q, k, v};
        float[][] graphGrads = {run.dq, run.dk, run.dv};
        String[] names = {"Q", "K", "V"};
        for (int which = 0; which < 3; which++) {
            double[] x = inputs[which];
            double[] fd = new double[x.length];
            double eps = 1e-5;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + eps;
                double plus = dot(reference(c, q, k, v), w);
                x[i] = keep - eps;
                double minus = dot(reference(c, q, k, v), w);
                x[i] = keep;
                fd[i] = (plus - minus) / (2 * eps);
            }
            double err = relErr(graphGrads[which], fd);
            // float32 forward and backward against an exact derivative: ~1e-7 measured, 1e-5 leaves room for
            // other CPUs' summation orders
            assertTrue(err <= 1e-5, "d/d" + names[which] + ": ||grad - fd|| / ||fd|| = " + err);
        }
    }

    private static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
