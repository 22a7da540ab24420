package org.align4j.loss.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.align4j.api.loss.LossResult;
import org.align4j.api.metrics.MetricNames;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
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
 * {@link CausalLanguageModelLoss} against a double-precision loop reference, and its gradient against central finite
 * differences of that reference.
 */
class CausalLanguageModelLossTest {

    static final int B = 3;
    static final int T = 4;
    static final int V = 7;

    /** Loss, num_tokens and d loss / d logits from the graph. */
    static final class Run {
        float loss;
        float numTokens;
        float[] grad;
    }

    static Run run(float[] logits, int[] targets, float[] mask, boolean staticShapes) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> l = tf.placeholder(TFloat32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, T, V) : Shape.of(-1, -1, -1)));
            Placeholder<TInt32> t = tf.placeholder(TInt32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, T) : Shape.of(-1, -1)));
            Placeholder<TFloat32> m = tf.placeholder(TFloat32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, T) : Shape.of(-1, -1)));
            LossResult result = new CausalLanguageModelLoss().compute(tf, l, t, m);
            Output<?>[] grad = g.addGradients(result.loss().asOutput(), new Output<?>[] {l.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 lt = TFloat32.tensorOf(Shape.of(B, T, V), DataBuffers.of(logits, true, false));
                    TInt32 tt = TInt32.tensorOf(Shape.of(B, T), DataBuffers.of(targets, true, false));
                    TFloat32 mt = TFloat32.tensorOf(Shape.of(B, T), DataBuffers.of(mask, true, false));
                    Result r = s.runner().feed(l, lt).feed(t, tt).feed(m, mt).fetch(result.loss())
                            .fetch(result.metrics().get(MetricNames.NUM_TOKENS)).fetch(grad[0]).run()) {
                Run out = new Run();
                out.loss = ((TFloat32) r.get(0)).getFloat();
                out.numTokens = ((TFloat32) r.get(1)).getFloat();
                TFloat32 gt = (TFloat32) r.get(2);
                out.grad = new float[B * T * V];
                gt.copyTo(DataBuffers.of(out.grad, false, false));
                return out;
            }
        }
    }

    /** sum(mask * nll) / max(sum(mask), 1) in double, with a stable log-sum-exp; masked targets are never read. */
    static double reference(double[] logits, int[] targets, float[] mask) {
        double total = 0;
        double count = 0;
        for (int p = 0; p < B * T; p++) {
            count += mask[p];
            if (mask[p] == 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, logits[p * V + v]);
            }
            double z = 0;
            for (int v = 0; v < V; v++) {
                z += Math.exp(logits[p * V + v] - max);
            }
            double logZ = max + Math.log(z);
            total += mask[p] * (logZ - logits[p * V + targets[p]]);
        }
        return total / Math.max(count, 1);
    }

    static float[] randomLogits(long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[B * T * V];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (scale * r.nextDouble(-1, 1));
        }
        return x;
    }

    static int[] randomTargets(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[B * T];
        for (int i = 0; i < t.length; i++) {
            t[i] = r.nextInt(V);
        }
        return t;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** Padding at the ends of rows 1 and 2, with garbage targets there. */
    static float[] paddingMask(int[] targets) {
        float[] mask = {1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0};
        targets[6] = -100; // an ignore index
        targets[7] = V + 3; // out of range
        targets[9] = Integer.MIN_VALUE;
        return mask;
    }

    private static void assertRel(double expected, double actual, double tol, String what) {
        double err = Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    @Test
    void meanOverAllTokensMatchesReference() {
        float[] logits = randomLogits(1, 4);
        int[] targets = randomTargets(2);
        float[] mask = new float[B * T];
        java.util.Arrays.fill(mask, 1f);
        Run r = run(logits, targets, mask, false);
        assertRel(reference(toDouble(logits), targets, mask), r.loss, 1e-5, "loss");
        assertEquals(B * T, r.numTokens, "num_tokens");
    }

    @Test
    void paddingIsMaskedWhateverItsTargetsHold() {
        float[] logits = randomLogits(3, 4);
        int[] targets = randomTargets(4);
        float[] mask = paddingMask(targets);
        for (boolean staticShapes : new boolean[] {false, true}) {
            Run r = run(logits, targets, mask, staticShapes);
            assertRel(reference(toDouble(logits), targets, mask), r.loss, 1e-5, "loss");
            assertEquals(7f, r.numTokens, "num_tokens");
            for (int p : new int[] {6, 7, 9, 10, 11}) {
                for (int v = 0; v < V; v++) {
                    assertEquals(0f, r.grad[p * V + v], 0f, "gradient at masked position " + p);
                }
            }
        }
        // changing the masked targets to valid ids changes nothing either
        int[] other = targets.clone();
        other[6] = 0;
        other[7] = V - 1;
        other[9] = 2;
        assertEquals(run(logits, targets, mask, false).loss, run(logits, other, mask, false).loss);
    }

    @Test
    void allZeroMaskGivesZeroNotNaN() {
        float[] logits = randomLogits(5, 4);
        int[] targets = randomTargets(6);
        Run r = run(logits, targets, new float[B * T], false);
        assertEquals(0f, r.loss, "loss of an empty batch");
        assertEquals(0f, r.numTokens, "num_tokens");
        for (float g : r.grad) {
            assertEquals(0f, g, 0f, "gradient of an empty batch");
        }
    }

    @Test
    void largeLogitsStayFinite() {
        float[] logits = randomLogits(7, 80); // exp(160) overflows float32: needs the stable form
        int[] targets = randomTargets(8);
        float[] mask = paddingMask(targets);
        Run r = run(logits, targets, mask, false);
        assertTrue(Float.isFinite(r.loss), "loss " + r.loss);
        assertRel(reference(toDouble(logits), targets, mask), r.loss, 1e-5, "loss");
    }

    /**
     * The graph's d loss / d logits against central differences of the double reference (step 1e-5): norm-wise
     * relative error below 1e-5 (float32 softmax minus one-hot, divided by the token count; ~1e-7 measured).
     */
    @Test
    void gradientMatchesCentralDifferencesOfTheReference() {
        float[] logits = randomLogits(9, 3);
        int[] targets = randomTargets(10);
        float[] mask = paddingMask(targets);
        mask[3] = 0.5f; // a fractional weight is a weight, as the formula says
        Run r = run(logits, targets, mask, false);
        double[] x = toDouble(logits);
        double num = 0;
        double den = 0;
        double eps = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + eps;
            double plus = reference(x, targets, mask);
            x[i] = keep - eps;
            double minus = reference(x, targets, mask);
            x[i] = keep;
            double fd = (plus - minus) / (2 * eps);
            num += (r.grad[i] - fd) * (r.grad[i] - fd);
            den += fd * fd;
        }
        double err = Math.sqrt(num / den);
        assertTrue(den > 0 && err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }
}
