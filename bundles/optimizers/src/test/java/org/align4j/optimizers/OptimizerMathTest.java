package org.align4j.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.Settings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each optimizer, five steps on random parameters with random gradients fed through placeholders, against the
 * double-precision {@link Reference} after every step: parameters, the step's change of the parameters, every state
 * variable and the gradient norm, norm-wise relative error <= 1e-5. Clipping off, on and binding (the global norm of
 * these gradients is about 5.4), and on but not binding.
 */
class OptimizerMathTest {
    static final double TOL = 1e-5;
    static final String[] NAMES = {"model.w", "model.b", "model.layers.0.k"};
    static final long[][] SHAPES = {{3, 4}, {5}, {2, 3, 2}};
    static final boolean[] DECAY = {true, false, true};
    static final double[][] SIZES = new double[][] {new double[12], new double[5], new double[12]};

    record Case(String label, Optimizer optimizer, Map<String, Object> settings, Supplier<Reference> ref) {
        @Override
        public String toString() {
            return label + " " + settings;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                new Case("sgd, L2, no clipping", new SgdOptimizer(),
                        Map.of("name", "sgd", "lr", 0.1, "schedule", "cosine", "weight_decay", 0.05),
                        () -> new Reference.Sgd(NAMES, DECAY, 0, 0.05)),
                new Case("sgd, clipping binds", new SgdOptimizer(), Map.of("clip_norm", 2.0),
                        () -> new Reference.Sgd(NAMES, DECAY, 2.0, 0)),
                new Case("momentum, defaults", new MomentumOptimizer(), Map.of(),
                        () -> new Reference.Momentum(NAMES, DECAY, SIZES, 0, 0, 0.9, false)),
                new Case("momentum, nesterov, L2, clipping binds", new MomentumOptimizer(),
                        Map.of("momentum", 0.8, "nesterov", true, "weight_decay", 0.01, "clip_norm", 1.5),
                        () -> new Reference.Momentum(NAMES, DECAY, SIZES, 1.5, 0.01, 0.8, true)),
                new Case("adam, defaults", new AdamOptimizer(), Map.of(),
                        () -> new Reference.Adam("adam", NAMES, DECAY, SIZES, 0, 0, 0.9, 0.999, 1e-8, false)),
                new Case("adam, coupled L2, clipping binds", new AdamOptimizer(),
                        Map.of("beta1", 0.8, "beta2", 0.99, "eps", 1e-6, "weight_decay", 0.05, "clip_norm", 2.0,
                                "warmup", 10, "min_lr", 0.001),
                        () -> new Reference.Adam("adam", NAMES, DECAY, SIZES, 2.0, 0.05, 0.8, 0.99, 1e-6, false)),
                new Case("adamw, decoupled decay", new AdamWOptimizer(), Map.of("weight_decay", 0.1),
                        () -> new Reference.Adam("adamw", NAMES, DECAY, SIZES, 0, 0.1, 0.9, 0.999, 1e-8, true)),
                new Case("adamw, default decay, clipping does not bind", new AdamWOptimizer(),
                        Map.of("clip_norm", 100.0),
                        () -> new Reference.Adam("adamw", NAMES, DECAY, SIZES, 100.0, 0.01, 0.9, 0.999, 1e-8, true)),
                new Case("adamw, decoupled decay, clipping binds", new AdamWOptimizer(),
                        Map.of("clip_norm", 1.0, "weight_decay", 0.2, "beta2", 0.95),
                        () -> new Reference.Adam("adamw", NAMES, DECAY, SIZES, 1.0, 0.2, 0.9, 0.95, 1e-8, true)))
                .map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesTheDoublePrecisionReferenceAfterEveryStep(Case c) {
        Settings settings = Settings.of("test.yaml", c.settings());
        Reference ref = c.ref().get();
        Random rnd = new Random(c.label().hashCode());
        double[][] p = StepHarness.random(rnd, SHAPES, 0.5, false);
        try (StepHarness h = new StepHarness(c.optimizer(), settings, NAMES, SHAPES, DECAY)) {
            h.assignParams(p);
            assertEquals(ref.state().keySet(), h.readState().keySet(), "state variables and their names");
            for (Map.Entry<String, double[]> e : h.readState().entrySet()) {
                assertEquals(0.0, norm(e.getValue()), e.getKey() + " starts at zero");
            }
            boolean clipped = false;
            for (int t = 0; t < 5; t++) {
                double lr = 0.05 + 0.02 * t;
                double[][] g = StepHarness.random(rnd, SHAPES, 1.0, true);
                double[][] before = h.readParams();
                double[][] refBefore = Reference.copy(p);
                double refNorm = ref.step(p, g, lr);
                clipped |= ref.clipNorm > 0 && refNorm > ref.clipNorm;
                double norm = h.step(lr, g);
                assertTrue(Math.abs(norm - refNorm) <= TOL * refNorm,
                        "step " + t + ": grad norm " + norm + " vs reference " + refNorm);
                double[][] after = h.readParams();
                for (int i = 0; i < NAMES.length; i++) {
                    double err = Reference.relErr(after[i], p[i]);
                    assertTrue(err <= TOL, "step " + t + ", " + NAMES[i] + ": relative error " + err);
                    double[] delta = minus(after[i], before[i]);
                    double[] refDelta = minus(p[i], refBefore[i]);
                    assertTrue(norm(refDelta) > 1e-3 * norm(p[i]), "the step moves " + NAMES[i]);
                    double dErr = Reference.relErr(delta, refDelta);
                    assertTrue(dErr <= TOL, "step " + t + ", change of " + NAMES[i] + ": relative error " + dErr);
                }
                Map<String, double[]> state = h.readState();
                for (Map.Entry<String, double[]> e : ref.state().entrySet()) {
                    double err = Reference.relErr(state.get(e.getKey()), e.getValue());
                    assertTrue(err <= TOL, "step " + t + ", " + e.getKey() + ": relative error " + err);
                }
            }
            assertEquals(ref.clipNorm > 0 && !c.label().contains("not bind"), clipped,
                    "the case exercises the clipping it claims to");
        }
    }

    static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    static double norm(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
