package org.align4j.optimizers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Double-precision references of the optimizers, written from the papers' formulas with plain loops, independent of
 * the graph code. {@code p[i]} is parameter {@code i} flattened row-major; {@code decay[i]} its decay flag.
 */
abstract class Reference {
    final String[] names;
    final boolean[] decay;
    final double clipNorm;
    final double weightDecay;

    Reference(String[] names, boolean[] decay, double clipNorm, double weightDecay) {
        this.names = names;
        this.decay = decay;
        this.clipNorm = clipNorm;
        this.weightDecay = weightDecay;
    }

    /** Updates {@code p} in place for gradients {@code g}; returns the global gradient norm before clipping. */
    final double step(double[][] p, double[][] g, double lr) {
        double sum = 0;
        for (double[] gi : g) {
            for (double x : gi) {
                sum += x * x;
            }
        }
        double norm = Math.sqrt(sum);
        double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1.0;
        double[][] clipped = new double[g.length][];
        for (int i = 0; i < g.length; i++) {
            clipped[i] = new double[g[i].length];
            for (int j = 0; j < g[i].length; j++) {
                clipped[i][j] = g[i][j] * scale;
            }
        }
        update(p, clipped, lr);
        return norm;
    }

    abstract void update(double[][] p, double[][] g, double lr);

    /** The optimizer's state by saved name. */
    abstract Map<String, double[]> state();

    /** {@code g + wd * p} for decaying parameters (classic L2). */
    double l2(double[][] p, double[][] g, int i, int j) {
        return decay[i] ? g[i][j] + weightDecay * p[i][j] : g[i][j];
    }

    static final class Sgd extends Reference {
        Sgd(String[] names, boolean[] decay, double clipNorm, double weightDecay) {
            super(names, decay, clipNorm, weightDecay);
        }

        @Override
        void update(double[][] p, double[][] g, double lr) {
            for (int i = 0; i < p.length; i++) {
                for (int j = 0; j < p[i].length; j++) {
                    p[i][j] -= lr * l2(p, g, i, j);
                }
            }
        }

        @Override
        Map<String, double[]> state() {
            return Map.of();
        }
    }

    static final class Momentum extends Reference {
        final double mu;
        final boolean nesterov;
        final double[][] velocity;

        Momentum(String[] names, boolean[] decay, double[][] shapeOf, double clipNorm, double weightDecay, double mu,
                boolean nesterov) {
            super(names, decay, clipNorm, weightDecay);
            this.mu = mu;
            this.nesterov = nesterov;
            this.velocity = zerosLike(shapeOf);
        }

        @Override
        void update(double[][] p, double[][] g, double lr) {
            for (int i = 0; i < p.length; i++) {
                for (int j = 0; j < p[i].length; j++) {
                    double gij = l2(p, g, i, j);
                    velocity[i][j] = mu * velocity[i][j] + gij;
                    p[i][j] -= lr * (nesterov ? gij + mu * velocity[i][j] : velocity[i][j]);
                }
            }
        }

        @Override
        Map<String, double[]> state() {
            Map<String, double[]> s = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) {
                s.put("optimizer.momentum.velocity." + names[i], velocity[i]);
            }
            return s;
        }
    }

    static final class Adam extends Reference {
        final String name;
        final double beta1;
        final double beta2;
        final double eps;
        final boolean decoupled;
        final double[][] m;
        final double[][] v;
        long t;

        Adam(String name, String[] names, boolean[] decay, double[][] shapeOf, double clipNorm, double weightDecay,
                double beta1, double beta2, double eps, boolean decoupled) {
            super(names, decay, clipNorm, weightDecay);
            this.name = name;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.decoupled = decoupled;
            this.m = zerosLike(shapeOf);
            this.v = zerosLike(shapeOf);
        }

        @Override
        void update(double[][] p, double[][] g, double lr) {
            t++;
            double c1 = 1 - Math.pow(beta1, t);
            double c2 = 1 - Math.pow(beta2, t);
            for (int i = 0; i < p.length; i++) {
                for (int j = 0; j < p[i].length; j++) {
                    double gij = decoupled ? g[i][j] : l2(p, g, i, j);
                    // the moments decay at the rates as the fused kernel holds them, in float32 (0.999 is
                    // 0.99900001287 there); the bias corrections above use the exact rates, as the graph (float64)
                    double b1 = (float) beta1;
                    double b2 = (float) beta2;
                    m[i][j] = b1 * m[i][j] + (1 - b1) * gij;
                    v[i][j] = b2 * v[i][j] + (1 - b2) * gij * gij;
                    double u = (m[i][j] / c1) / (Math.sqrt(v[i][j] / c2) + eps);
                    if (decoupled && decay[i]) {
                        u += weightDecay * p[i][j];
                    }
                    p[i][j] -= lr * u;
                }
            }
        }

        @Override
        Map<String, double[]> state() {
            Map<String, double[]> s = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) {
                s.put("optimizer." + name + ".m." + names[i], m[i]);
                s.put("optimizer." + name + ".v." + names[i], v[i]);
            }
            s.put("optimizer." + name + ".step", new double[] {t});
            return s;
        }
    }

    static double[][] zerosLike(double[][] a) {
        double[][] z = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            z[i] = new double[a[i].length];
        }
        return z;
    }

    static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** Norm-wise relative error {@code ||out - ref|| / ||ref||} (absolute when {@code ref} is zero). */
    static double relErr(double[] out, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (out[i] - ref[i]) * (out[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
