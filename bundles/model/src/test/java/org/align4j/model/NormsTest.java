package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
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

/** {@link Norms} alone, against double-precision loops, on a rank-3 input with dynamic leading dimensions. */
class NormsTest {

    static final int ROWS = 6; // [2, 3] leading dimensions
    static final int D = 10;
    static final float EPS = 1e-5f;

    private final SplittableRandom random = new SplittableRandom(17);

    private float[] uniform(int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(lo, hi);
        }
        return x;
    }

    /** The norm of x (rows of a [2, 3, D] input) and its gradient for sum(norm * w), from the graph. */
    private float[][] run(boolean layerNorm, float[] x, float[] gain, float[] bias, float[] w) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, D)));
            Operand<TFloat32> y = layerNorm
                    ? Norms.layerNorm(tf, in, tf.constant(gain), tf.constant(bias), EPS)
                    : Norms.rmsNorm(tf, in, tf.constant(gain), EPS);
            Operand<TFloat32> s = tf.reduceSum(tf.math.mul(y, tf.constant(Shape.of(2, 3, D),
                    DataBuffers.of(w, true, false))), tf.constant(new int[] {0, 1, 2}));
            Output<?>[] grad = g.addGradients(s.asOutput(), new Output<?>[] {in.asOutput()});
            try (Session session = new Session(g);
                    TFloat32 xt = TFloat32.tensorOf(Shape.of(2, 3, D), DataBuffers.of(x, true, false));
                    Result r = session.runner().feed(in, xt).fetch(y).fetch(grad[0]).run()) {
                return new float[][] {Tensors.values((TFloat32) r.get(0)), Tensors.values((TFloat32) r.get(1))};
            }
        }
    }

    private static double[] reference(boolean layerNorm, double[] x, float[] gain, float[] bias) {
        double[] g = new double[D];
        double[] b = new double[D];
        for (int e = 0; e < D; e++) {
            g[e] = gain[e];
            b[e] = bias[e];
        }
        double[] y = new double[x.length];
        for (int r = 0; r < ROWS; r++) {
            double[] row = new double[D];
            System.arraycopy(x, r * D, row, 0, D);
            double[] out = layerNorm ? ReferenceDecoder.layerNorm(row, g, b, EPS)
                    : ReferenceDecoder.rmsNorm(row, g, EPS);
            System.arraycopy(out, 0, y, r * D, D);
        }
        return y;
    }

    private void check(boolean layerNorm) {
        float[] x = uniform(ROWS * D, -3, 3);
        for (int e = 0; e < D; e++) {
            x[e] += 5; // one row far from zero mean: centring matters
            x[D + e] *= 0.01f; // one tiny row: eps matters
        }
        float[] gain = uniform(D, 0.5, 1.5);
        float[] bias = uniform(D, -0.5, 0.5);
        float[] w = uniform(ROWS * D, -1, 1);
        float[][] got = run(layerNorm, x, gain, bias, w);
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            xd[i] = x[i];
        }
        String name = layerNorm ? "LayerNorm" : "RMSNorm";
        double err = Tensors.relErr(got[0], reference(layerNorm, xd, gain, bias));
        assertTrue(err <= 1e-5, name + ": ||out - ref|| / ||ref|| = " + err);

        double[] fd = new double[x.length];
        double step = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double keep = xd[i];
            xd[i] = keep + step;
            double plus = dot(reference(layerNorm, xd, gain, bias), w);
            xd[i] = keep - step;
            double minus = dot(reference(layerNorm, xd, gain, bias), w);
            xd[i] = keep;
            fd[i] = (plus - minus) / (2 * step);
        }
        double gradErr = Tensors.relErr(got[1], fd);
        // the tiny row has gradients ~1/sqrt(var + eps) ~ 100x the others, computed in float32: 1e-4 leaves room
        assertTrue(gradErr <= 1e-4, name + " gradient: ||grad - fd|| / ||fd|| = " + gradErr);
    }

    private static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void layerNormMatchesReference() {
        check(true);
    }

    @Test
    void rmsNormMatchesReference() {
        check(false);
    }
}
