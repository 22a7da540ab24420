package org.align4j.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * State variables (names, zero start without a manual initialisation, restoring a checkpoint), decoupled decay only
 * where asked, reads before writes with gradients of a real loss, minimising a quadratic, and input checks.
 */
class OptimizerStateTest {
    static final String[] NAMES = {"model.w", "model.b"};
    static final long[][] SHAPES = {{2, 3}, {3}};
    static final boolean[] DECAY = {true, false};
    static final Settings NONE = Settings.of("test.yaml", Map.of());

    @Test
    void stateVariablesAreNamedAfterOptimizerSlotAndParameter() {
        assertState(new SgdOptimizer(), List.of());
        assertState(new MomentumOptimizer(),
                List.of("optimizer.momentum.velocity.model.w", "optimizer.momentum.velocity.model.b"));
        assertState(new AdamOptimizer(), List.of("optimizer.adam.step", "optimizer.adam.m.model.w",
                "optimizer.adam.v.model.w", "optimizer.adam.m.model.b", "optimizer.adam.v.model.b"));
        assertState(new AdamWOptimizer(), List.of("optimizer.adamw.step", "optimizer.adamw.m.model.w",
                "optimizer.adamw.v.model.w", "optimizer.adamw.m.model.b", "optimizer.adamw.v.model.b"));
    }

    private static void assertState(Optimizer optimizer, List<String> expected) {
        try (StepHarness h = new StepHarness(optimizer, NONE, NAMES, SHAPES, DECAY)) {
            List<String> names = new ArrayList<>();
            for (Parameter s : h.step.state()) {
                names.add(s.name());
                assertFalse(s.decay(), s.name() + " is not decayed");
                Shape expectedShape = s.name().endsWith(".step") ? Shape.scalar()
                        : s.name().endsWith("model.w") ? Shape.of(2, 3) : Shape.of(3);
                assertEquals(expectedShape, s.shape(), s.name());
                assertEquals(expectedShape, s.variable().shape(), s.name());
            }
            assertEquals(expected, names);
        }
    }

    @Test
    void namesTensorFlowRejectsStillMakeStateVariables() {
        String[] names = {"_h[0]:w", "h/1 w"};
        try (StepHarness h = new StepHarness(new MomentumOptimizer(), NONE, names, SHAPES, DECAY)) {
            assertEquals(List.of("optimizer.momentum.velocity._h[0]:w", "optimizer.momentum.velocity.h/1 w"),
                    h.step.state().stream().map(Parameter::name).toList(), "saved names are kept as given");
            assertEquals("optimizer.momentum.velocity._h_0__w", h.step.state().get(0).variable().op().name());
            h.assignParams(new double[][] {new double[6], new double[3]});
            assertTrue(h.step(0.1, new double[][] {{1, 1, 1, 1, 1, 1}, {1, 1, 1}}) > 0);
        }
    }

    /**
     * A trainer opens a session and restores a checkpoint as its first run, with assign ops of its own: the
     * initializers run automatically before that run and never again, so the restored state is kept and the resumed
     * run continues exactly where the first one would have.
     */
    @Test
    void freshSessionsStartAtZeroAndRestoredStateIsNotOverwritten() {
        Random rnd = new Random(11);
        double[][] p0 = StepHarness.random(rnd, SHAPES, 0.5, false);
        List<double[][]> grads = new ArrayList<>();
        for (int t = 0; t < 5; t++) {
            grads.add(StepHarness.random(rnd, SHAPES, 1.0, true));
        }
        try (StepHarness h = new StepHarness(new AdamOptimizer(), NONE, NAMES, SHAPES, DECAY)) {
            h.assignParams(p0);
            for (int t = 0; t < 3; t++) {
                h.step(0.01, grads.get(t));
            }
            double[][] p3 = h.readParams();
            Map<String, double[]> s3 = h.readState();
            assertEquals(3.0, s3.get("optimizer.adam.step")[0]);
            for (int t = 3; t < 5; t++) {
                h.step(0.01, grads.get(t));
            }
            double[][] p5 = h.readParams();
            Map<String, double[]> s5 = h.readState();

            // a new session: its first run is the restore
            h.newSession();
            s3.forEach(h::assign);
            h.assignParams(p3);
            Map<String, double[]> restored = h.readState();
            s3.forEach((k, v) -> assertEquals(0.0, Reference.relErr(restored.get(k), v), k + " kept after restore"));
            for (int t = 3; t < 5; t++) {
                h.step(0.01, grads.get(t));
            }
            double[][] q5 = h.readParams();
            for (int i = 0; i < NAMES.length; i++) {
                assertEquals(0.0, Reference.relErr(q5[i], p5[i]), NAMES[i] + " after resuming");
            }
            Map<String, double[]> r5 = h.readState();
            s5.forEach((k, v) -> assertEquals(0.0, Reference.relErr(r5.get(k), v), k + " after resuming"));

            // another new session, nothing restored: the state starts at zero without any initialize() call
            h.newSession();
            h.readState().forEach((k, v) -> assertEquals(0.0, OptimizerMathTest.norm(v), k + " in a fresh session"));
            h.assignParams(p0);
            h.step(0.01, grads.get(0));
            assertEquals(1.0, h.readState().get("optimizer.adam.step")[0]);
        }
    }

    @Test
    void adamwDecaysOnlyParametersThatAskForIt() {
        double wd = 0.1;
        double lr = 0.5;
        Random rnd = new Random(5);
        double[][] p0 = StepHarness.random(rnd, SHAPES, 1.0, false);
        double[][] zeros = Reference.zerosLike(p0);
        Settings settings = Settings.of("test.yaml", Map.of("weight_decay", wd));
        try (StepHarness h = new StepHarness(new AdamWOptimizer(), settings, NAMES, SHAPES, DECAY)) {
            h.assignParams(p0);
            for (int t = 1; t <= 3; t++) {
                h.step(lr, zeros); // m = v = 0: only the decay moves parameters
                double[][] p = h.readParams();
                double factor = Math.pow(1 - lr * wd, t);
                double[] expected = p0[0].clone();
                for (int j = 0; j < expected.length; j++) {
                    expected[j] *= factor;
                }
                assertTrue(Reference.relErr(p[0], expected) <= 1e-6, "decayed model.w after step " + t);
                assertEquals(0.0, Reference.relErr(p[1], p0[1]), "model.b (decay=false) unchanged after step " + t);
            }
        }
    }

    /**
     * Gradients of a real loss whose backward pass reads the parameters again (d/dB of sum(A*B) is A), with the loss
     * fetched in the same run as the update and the optimizer built under a control dependency on it: every read
     * sees the old values.
     */
    @Test
    void everyReadSeesTheOldValuesWithGradientsOfARealLoss() {
        try (Graph g = new Graph()) {
            Ops tf0 = Ops.create(g);
            Variable<TFloat32> a = tf0.withName("a").variable(Shape.of(4), TFloat32.class);
            Variable<TFloat32> b = tf0.withName("b").variable(Shape.of(4), TFloat32.class);
            // reads as a model makes them (gradients with respect to a ref variable itself crash TensorFlow)
            Operand<TFloat32> ra = tf0.identity(a); // [4], may share a's buffer
            Operand<TFloat32> rb = tf0.identity(b); // [4]
            // loss = sum(a * b) + 0.5 * sum(a^2): da = b + a, db = a
            Operand<TFloat32> loss = tf0.math.add(tf0.reduceSum(tf0.math.mul(ra, rb), tf0.constant(0)),
                    tf0.math.mul(tf0.constant(0.5f), tf0.reduceSum(tf0.math.square(ra), tf0.constant(0)))); // []
            List<Operand<TFloat32>> grads = gradients(tf0, loss, List.of(ra, rb));
            Placeholder<TFloat32> lr = tf0.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
            List<Parameter> params = List.of(new Parameter("a", a, Shape.of(4), true),
                    new Parameter("b", b, Shape.of(4), false));
            Ops tf = tf0.withControlDependencies(loss);
            OptimizerStep step = new AdamWOptimizer().build(tf, params, grads, lr,
                    Settings.of("test.yaml", Map.of("weight_decay", 0.1)));
            double[][] p = {{0.5, -0.25, 0.75, -1.0}, {0.125, 0.5, -0.5, 0.25}};
            Reference ref = new Reference.Adam("adamw", new String[] {"a", "b"}, new boolean[] {true, false}, p, 0,
                    0.1, 0.9, 0.999, 1e-8, true);
            try (Session s = new Session(g)) {
                s.runner().addTarget(tf0.assign(a, tf0.constant(new float[] {0.5f, -0.25f, 0.75f, -1f})))
                        .addTarget(tf0.assign(b, tf0.constant(new float[] {0.125f, 0.5f, -0.5f, 0.25f}))).run()
                        .close();
                for (int t = 0; t < 10; t++) {
                    double refLoss = 0;
                    double[][] rg = new double[2][4];
                    for (int j = 0; j < 4; j++) {
                        refLoss += p[0][j] * p[1][j] + 0.5 * p[0][j] * p[0][j];
                        rg[0][j] = p[1][j] + p[0][j];
                        rg[1][j] = p[0][j];
                    }
                    double refNorm = ref.step(p, rg, 0.05);
                    try (TFloat32 lrT = TFloat32.scalarOf(0.05f);
                            Result r = s.runner().feed(lr, lrT).fetch(loss).fetch(step.gradNorm())
                                    .addTarget(step.update()).run()) {
                        double l = ((TFloat32) r.get(0)).getFloat();
                        double n = ((TFloat32) r.get(1)).getFloat();
                        assertTrue(Math.abs(l - refLoss) <= 1e-5 * Math.abs(refLoss) + 1e-7,
                                "step " + t + ": loss " + l + " vs " + refLoss + " (old values)");
                        assertTrue(Math.abs(n - refNorm) <= 1e-5 * refNorm, "step " + t + ": grad norm");
                    }
                    try (Result r = s.runner().fetch(a).fetch(b).run()) {
                        for (int i = 0; i < 2; i++) {
                            double err = Reference.relErr(StepHarness.values((TFloat32) r.get(i)), p[i]);
                            assertTrue(err <= 1e-5, "step " + t + ", param " + i + ": relative error " + err);
                        }
                    }
                }
            }
        }
    }

    /**
     * A gradient that reads a parameter directly (ref input, read when its op runs) at the end of a long chain,
     * while that parameter's own update is ready at once: without the control dependencies TensorFlow assigns the
     * parameter first and the late read sees the new value.
     */
    @Test
    void aLateReadOfAParameterStillSeesItsOldValue() {
        int chain = 40;
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> a = tf.withName("a").variable(Shape.of(3), TFloat32.class);
            Variable<TFloat32> b = tf.withName("b").variable(Shape.of(3), TFloat32.class);
            Placeholder<TFloat32> ga = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3)));
            Placeholder<TFloat32> gb = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3)));
            Operand<TFloat32> slow = gb; // [3]
            for (int k = 0; k < chain; k++) {
                slow = tf.math.tanh(slow); // [3]
            }
            Operand<TFloat32> gradB = tf.math.mul(slow, a); // [3], reads a when it runs
            Placeholder<TFloat32> lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
            OptimizerStep step = new SgdOptimizer().build(tf, List.of(new Parameter("a", a, Shape.of(3), true),
                    new Parameter("b", b, Shape.of(3), true)), List.of(ga, gradB), lr, NONE);
            double[][] p = {{1, 2, 3}, {0, 0, 0}};
            Random rnd = new Random(3);
            try (Session s = new Session(g)) {
                s.runner().addTarget(tf.assign(a, tf.constant(new float[] {1, 2, 3})))
                        .addTarget(tf.assign(b, tf.zeros(tf.constant(new int[] {3}), TFloat32.class))).run().close();
                for (int t = 0; t < 20; t++) {
                    double[][] feed = StepHarness.random(rnd, new long[][] {{3}, {3}}, 1.0, true);
                    double[][] rg = {feed[0].clone(), new double[3]};
                    for (int j = 0; j < 3; j++) {
                        double x = feed[1][j];
                        for (int k = 0; k < chain; k++) {
                            x = Math.tanh(x);
                        }
                        rg[1][j] = x * p[0][j];
                    }
                    new Reference.Sgd(new String[] {"a", "b"}, new boolean[] {true, true}, 0, 0).step(p, rg, 1.0);
                    try (TFloat32 lrT = TFloat32.scalarOf(1f);
                            TFloat32 gaT = StepHarness.tensor(Shape.of(3), feed[0]);
                            TFloat32 gbT = StepHarness.tensor(Shape.of(3), feed[1])) {
                        s.runner().feed(lr, lrT).feed(ga, gaT).feed(gb, gbT).addTarget(step.update()).run().close();
                    }
                    try (Result r = s.runner().fetch(a).fetch(b).run()) {
                        for (int i = 0; i < 2; i++) {
                            double err = Reference.relErr(StepHarness.values((TFloat32) r.get(i)), p[i]);
                            assertTrue(err <= 1e-5, "step " + t + ", param " + i + ": relative error " + err);
                        }
                    }
                }
            }
        }
    }

    /** AdamW with the cosine schedule drives a badly conditioned quadratic to its minimum. */
    @Test
    void adamwWithCosineScheduleMinimisesAQuadratic() {
        int n = 8;
        float[] centre = new float[n];
        float[] curvature = new float[n];
        for (int j = 0; j < n; j++) {
            centre[j] = (j % 2 == 0 ? 1 : -1) * (0.5f + 0.25f * j);
            curvature[j] = 0.5f + j; // 0.5 .. 7.5
        }
        Settings settings = Settings.of("test.yaml",
                Map.of("name", "adamw", "lr", 0.1, "schedule", "cosine", "warmup", 20, "min_lr", 0.001));
        LearningRateSchedule schedule = new CosineSchedule();
        schedule.validate(settings);
        int steps = 400;
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> x = tf.withName("x").variable(Shape.of(n), TFloat32.class);
            Operand<TFloat32> rx = tf.identity(x); // [n]
            // loss = 0.5 * sum(k * (x - c)^2)
            Operand<TFloat32> loss = tf.math.mul(tf.constant(0.5f), tf.reduceSum(
                    tf.math.mul(tf.constant(curvature), tf.math.square(tf.math.sub(rx, tf.constant(centre)))),
                    tf.constant(0))); // []
            Placeholder<TFloat32> lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
            OptimizerStep step = new AdamWOptimizer().build(tf.withControlDependencies(loss),
                    List.of(new Parameter("x", x, Shape.of(n), false)), gradients(tf, loss, List.of(rx)), lr, settings);
            try (Session s = new Session(g)) {
                s.run(tf.assign(x, tf.zeros(tf.constant(new int[] {n}), TFloat32.class)));
                double first = Double.NaN;
                double last = Double.NaN;
                for (int t = 0; t < steps; t++) {
                    try (TFloat32 lrT = TFloat32.scalarOf((float) schedule.rate(t, steps, settings));
                            Result r = s.runner().feed(lr, lrT).fetch(loss).addTarget(step.update()).run()) {
                        last = ((TFloat32) r.get(0)).getFloat();
                        if (t == 0) {
                            first = last;
                        }
                    }
                }
                assertTrue(first > 10, "starts far from the minimum: " + first);
                assertTrue(last < 1e-4 * first, "loss " + first + " -> " + last);
                try (Result r = s.runner().fetch(x).run()) {
                    double[] xs = StepHarness.values((TFloat32) r.get(0));
                    for (int j = 0; j < n; j++) {
                        assertEquals(centre[j], xs[j], 1e-2, "x[" + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void rejectsInputsThatDoNotFit() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Variable<TFloat32> w = tf.variable(Shape.of(2, 3), TFloat32.class);
            Parameter pw = new Parameter("model.w", w, Shape.of(2, 3), true);
            Operand<TFloat32> gw = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
            Operand<TFloat32> wrong = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3, 2)));
            Operand<TFloat32> lr = tf.constant(0.1f);
            Optimizer adam = new AdamOptimizer();

            String m = assertThrows(IllegalArgumentException.class,
                    () -> adam.build(tf, List.of(pw), List.of(gw, gw), lr, NONE)).getMessage();
            assertTrue(m.contains("2 gradients for 1 parameters"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> adam.build(tf, List.of(pw), List.of(wrong), lr, NONE)).getMessage();
            assertTrue(m.contains("model.w") && m.contains("[3, 2]") && m.contains("[2, 3]"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> adam.build(tf, List.of(pw, pw), List.of(gw, gw), lr, NONE)).getMessage();
            assertTrue(m.contains("model.w is listed twice"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> adam.build(tf, List.of(), List.of(), lr, NONE)).getMessage();
            assertTrue(m.contains("no parameters"), m);
            m = assertThrows(IllegalArgumentException.class,
                    () -> adam.build(tf, List.of(pw), List.of(gw), tf.constant(new float[] {0.1f}), NONE))
                    .getMessage();
            assertTrue(m.contains("learning rate must be a scalar"), m);
        }
    }

    static List<Operand<TFloat32>> gradients(Ops tf, Operand<TFloat32> loss, List<Operand<TFloat32>> reads) {
        Gradients dy = tf.gradients(loss, reads);
        List<Operand<TFloat32>> out = new ArrayList<>();
        for (int i = 0; i < reads.size(); i++) {
            out.add(dy.<TFloat32>dy(i));
        }
        return out;
    }
}
