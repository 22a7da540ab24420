package org.align4j.model;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Small helpers for the tests: Java arrays to tensors and back. */
final class Tensors {
    private Tensors() {
    }

    static TInt32 ints(int[][] x) {
        int[] flat = new int[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * x[0].length, x[0].length);
        }
        return TInt32.tensorOf(Shape.of(x.length, x[0].length), DataBuffers.of(flat, true, false));
    }

    static TFloat32 floats(float[][] x) {
        float[] flat = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * x[0].length, x[0].length);
        }
        return TFloat32.tensorOf(Shape.of(x.length, x[0].length), DataBuffers.of(flat, true, false));
    }

    static float[] values(TFloat32 t) {
        float[] x = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(x, false, false));
        return x;
    }

    /** Norm-wise relative error of a flat float result against a nested double reference. */
    static double relErr(float[] actual, double[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError("length " + actual.length + " != " + expected.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }
        if (den == 0) {
            throw new AssertionError("reference is all zero: the comparison tests nothing");
        }
        return Math.sqrt(num / den);
    }

    static double[] flat(double[][][] x) {
        double[] y = new double[x.length * x[0].length * x[0][0].length];
        int k = 0;
        for (double[][] a : x) {
            for (double[] b : a) {
                for (double v : b) {
                    y[k++] = v;
                }
            }
        }
        return y;
    }

    static double[] flat(double[][] x) {
        double[] y = new double[x.length * x[0].length];
        int k = 0;
        for (double[] a : x) {
            for (double v : a) {
                y[k++] = v;
            }
        }
        return y;
    }
}
