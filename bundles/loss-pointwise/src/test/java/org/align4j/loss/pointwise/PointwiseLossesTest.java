package org.align4j.loss.pointwise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PointwiseLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
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

/**
 * {@link MeanSquaredErrorLoss} and {@link HuberLoss} against double-precision loops written here, their gradients
 * against central finite differences of those loops, and their settings checks.
 */
class PointwiseLossesTest {

    static final int B = 9;

    /** Loss, metrics and d loss / d predictions from the graph. */
    static final class Run {
        float loss;
        float rmse;
        float mae;
        float[] grad;
    }

    /** Builds the loss on placeholders of unknown shape (or [B] when {@code staticShapes}) and runs it. */
    static Run run(PointwiseLoss lossFn, Settings settings, float[] predictions, float[] targets, float[] weights,
            boolean staticShapes) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Shape shape = staticShapes ? Shape.of(B) : Shape.of(-1);
            Placeholder<TFloat32> p = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
            Placeholder<TFloat32> t = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
            Placeholder<TFloat32> w = weights == null ? null
                    : tf.placeholder(TFloat32.class, Placeholder.shape(shape));
            LossResult result = settings == null ? lossFn.compute(tf, p, t, w) : lossFn.compute(tf, p, t, w, settings);
            Output<?>[] grad = g.addGradients(result.loss().asOutput(), new Output<?>[] {p.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 pt = vector(predictions);
                    TFloat32 tt = vector(targets);
                    TFloat32 wt = vector(weights == null ? new float[predictions.length] : weights)) {
                Session.Runner runner = s.runner().feed(p, pt).feed(t, tt);
                if (w != null) {
                    runner.feed(w, wt);
                }
                try (Result r = runner.fetch(result.loss()).fetch(metric(result, WeightedRegression.RMSE))
                        .fetch(metric(result, WeightedRegression.MAE)).fetch(grad[0]).run()) {
                    Run out = new Run();
                    out.loss = ((TFloat32) r.get(0)).getFloat();
                    out.rmse = ((TFloat32) r.get(1)).getFloat();
                    out.mae = ((TFloat32) r.get(2)).getFloat();
                    out.grad = new float[predictions.length];
                    ((TFloat32) r.get(3)).copyTo(DataBuffers.of(out.grad, false, false));
                    return out;
                }
            }
        }
    }

    static Operand<TFloat32> metric(LossResult r, String name) {
        Operand<TFloat32> m = r.metrics().get(name);
        assertTrue(m != null, "metric " + name + " missing; has " + r.metrics().keySet());
        return m;
    }

    static TFloat32 vector(float[] x) {
        return TFloat32.tensorOf(Shape.of(x.length), DataBuffers.of(x, true, false));
    }

    // ---- references, in double ----

    static double squared(double e) {
        return e * e;
    }

    /** The Huber function written piecewise, as in the textbook (the graph builds the min form). */
    static DoubleUnaryOperator huber(double delta) {
        return e -> Math.abs(e) <= delta ? 0.5 * e * e : delta * (Math.abs(e) - 0.5 * delta);
    }

    /** sum(w * l(p - t)) / max(sum(w), 1e-12), w = 1 when null. */
    static double reference(DoubleUnaryOperator l, double[] p, float[] t, float[] w) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < p.length; i++) {
            double wi = w == null ? 1 : w[i];
            num += wi * l.applyAsDouble(p[i] - t[i]);
            den += wi;
        }
        return num / Math.max(den, 1e-12);
    }

    static float[] random(long seed, double scale, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * r.nextDouble(-1, 1));
        }
        return x;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** Weights with zeros (dropped examples) and fractions. */
    static float[] someWeights() {
        return new float[] {1, 0, 0.5f, 2, 1, 0, 0.25f, 1, 3};
    }

    static void assertRel(double expected, double actual, double tol, String what) {
        double err = expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    /** The graph's gradient against central differences of the double reference: norm-wise relative error. */
    static double gradientError(DoubleUnaryOperator l, float[] grad, float[] p, float[] t, float[] w) {
        double[] x = toDouble(p);
        double num = 0;
        double den = 0;
        double h = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double plus = reference(l, x, t, w);
            x[i] = keep - h;
            double minus = reference(l, x, t, w);
            x[i] = keep;
            double fd = (plus - minus) / (2 * h);
            num += (grad[i] - fd) * (grad[i] - fd);
            den += fd * fd;
        }
        assertTrue(den > 0, "the reference gradient is zero: the test checks nothing");
        return Math.sqrt(num / den);
    }

    // ---- values ----

    @Test
    void mseMatchesReferenceWithAndWithoutWeights() {
        float[] p = random(1, 3, B);
        float[] t = random(2, 3, B);
        for (boolean staticShapes : new boolean[] {false, true}) {
            for (float[] w : new float[][] {null, someWeights()}) {
                Run r = run(new MeanSquaredErrorLoss(), null, p, t, w, staticShapes);
                double loss = reference(PointwiseLossesTest::squared, toDouble(p), t, w);
                assertRel(loss, r.loss, 1e-5, "mse");
                assertRel(Math.sqrt(loss), r.rmse, 1e-5, "rmse");
                assertRel(reference(Math::abs, toDouble(p), t, w), r.mae, 1e-5, "mae");
            }
        }
    }

    @Test
    void huberMatchesReferenceOnBothSidesOfDelta() {
        float[] p = random(3, 3, B); // errors up to 6: some below, some above each delta
        float[] t = random(4, 3, B);
        for (double delta : new double[] {0.3, 1.0, 2.5}) {
            Settings s = Settings.of("test.yaml", Map.of(HuberLoss.DELTA, delta));
            for (float[] w : new float[][] {null, someWeights()}) {
                Run r = run(new HuberLoss(), s, p, t, w, false);
                assertRel(reference(huber(delta), toDouble(p), t, w), r.loss, 1e-5, "huber delta " + delta);
                assertRel(reference(Math::abs, toDouble(p), t, w), r.mae, 1e-5, "mae");
            }
        }
        int below = 0;
        int above = 0;
        for (int i = 0; i < B; i++) {
            if (Math.abs(p[i] - t[i]) <= 1.0) {
                below++;
            } else {
                above++;
            }
        }
        assertTrue(below > 0 && above > 0, "the data cover both pieces at delta 1: " + below + "/" + above);
    }

    @Test
    void defaultsAreDeltaOneAndEmptySettingsGiveTheDefaults() {
        float[] p = random(5, 3, B);
        float[] t = random(6, 3, B);
        float[] w = someWeights();
        double expected = reference(huber(1.0), toDouble(p), t, w);
        assertRel(expected, run(new HuberLoss(), null, p, t, w, false).loss, 1e-5, "huber, no settings");
        assertRel(expected, run(new HuberLoss(), Settings.empty("test.yaml", "stages[0].loss"), p, t, w, false).loss,
                1e-5, "huber, empty settings");
    }

    @Test
    void zeroWeightsDropExamplesWhateverTheirValues() {
        float[] p = random(7, 3, B);
        float[] t = random(8, 3, B);
        float[] w = someWeights();
        float[] other = p.clone();
        other[1] = 1e6f; // weight 0
        other[5] = -1e6f; // weight 0
        for (PointwiseLoss l : List.of(new MeanSquaredErrorLoss(), new HuberLoss())) {
            Run a = run(l, null, p, t, w, false);
            Run b = run(l, null, other, t, w, false);
            assertEquals(a.loss, b.loss, 1e-6 * Math.abs(a.loss), "loss");
            assertEquals(0f, b.grad[1], 0f, "gradient at a dropped example");
            assertEquals(0f, b.grad[5], 0f, "gradient at a dropped example");
        }
    }

    @Test
    void allZeroWeightsGiveZeroNotNaN() {
        float[] p = random(9, 3, B);
        float[] t = random(10, 3, B);
        for (PointwiseLoss l : List.of(new MeanSquaredErrorLoss(), new HuberLoss())) {
            Run r = run(l, null, p, t, new float[B], false);
            assertEquals(0f, r.loss, 0f, "loss");
            assertEquals(0f, r.rmse, 0f, "rmse");
            assertEquals(0f, r.mae, 0f, "mae");
            for (float g : r.grad) {
                assertEquals(0f, g, 0f, "gradient");
            }
        }
    }

    @Test
    void largeValuesStayFiniteAndRight() {
        float[] p = random(11, 1000, B);
        p[0] = 1000;
        p[1] = -1000;
        float[] t = random(12, 1000, B);
        t[1] = 1000; // an error of 2000
        float[] w = someWeights();
        w[1] = 1;
        Run mse = run(new MeanSquaredErrorLoss(), null, p, t, w, false);
        assertTrue(Float.isFinite(mse.loss), "mse " + mse.loss);
        assertRel(reference(PointwiseLossesTest::squared, toDouble(p), t, w), mse.loss, 1e-5, "mse");
        Run hub = run(new HuberLoss(), null, p, t, w, false);
        assertTrue(Float.isFinite(hub.loss), "huber " + hub.loss);
        assertRel(reference(huber(1.0), toDouble(p), t, w), hub.loss, 1e-5, "huber");
        // beyond delta the gradient is delta * sign(e) * w / sum(w)
        double sumW = 0;
        for (float x : w) {
            sumW += x;
        }
        assertRel(-1.0 * w[1] / sumW, hub.grad[1], 1e-6, "huber gradient at an error of -2000");
    }

    // ---- gradients ----

    /** ~1e-7 measured: the error is float32 rounding of w * l'(e) / sum(w). */
    @Test
    void mseGradientMatchesFiniteDifferences() {
        float[] p = random(13, 3, B);
        float[] t = random(14, 3, B);
        for (float[] w : new float[][] {null, someWeights()}) {
            Run r = run(new MeanSquaredErrorLoss(), null, p, t, w, false);
            double err = gradientError(PointwiseLossesTest::squared, r.grad, p, t, w);
            assertTrue(err <= 1e-5, "mse ||grad - fd|| / ||fd|| = " + err);
        }
    }

    @Test
    void huberGradientMatchesFiniteDifferences() {
        float[] p = random(15, 3, B);
        float[] t = random(16, 3, B);
        p[2] = t[2]; // e = 0 exactly: |e|'s kink must not leak into the gradient
        for (double delta : new double[] {0.5, 1.0, 2.0}) {
            Settings s = Settings.of("test.yaml", Map.of(HuberLoss.DELTA, delta));
            for (float[] w : new float[][] {null, someWeights()}) {
                Run r = run(new HuberLoss(), s, p, t, w, false);
                double err = gradientError(huber(delta), r.grad, p, t, w);
                assertTrue(err <= 1e-5, "huber delta " + delta + " ||grad - fd|| / ||fd|| = " + err);
                assertEquals(0f, r.grad[2], 0f, "gradient at e = 0");
            }
        }
    }

    // ---- settings ----

    static Settings lossSection(Map<String, Object> loss) {
        Settings file = Settings.of("pipelines/rm.yaml", Map.of("stages", List.of(Map.of("loss", loss))));
        return file.sections("stages").get(0).section("loss");
    }

    @Test
    void unknownKeysAreRejectedNamingFileAndKey() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> new MeanSquaredErrorLoss().validate(lossSection(Map.of("delta", 1))));
        assertEquals("pipelines/rm.yaml: stages[0].loss.delta: unknown setting (accepted here: )", e.getMessage());
        e = assertThrows(SettingsException.class,
                () -> new HuberLoss().validate(lossSection(Map.of("detla", 1))));
        assertEquals("pipelines/rm.yaml: stages[0].loss.detla: unknown setting (accepted here: delta)",
                e.getMessage());
    }

    @Test
    void deltaMustBeAPositiveNumber() {
        for (Object bad : new Object[] {0, -1.5, "wide", Double.POSITIVE_INFINITY, 1e-50}) {
            SettingsException e = assertThrows(SettingsException.class,
                    () -> new HuberLoss().validate(lossSection(Map.of("delta", bad))), "delta " + bad);
            assertEquals("stages[0].loss.delta", e.key());
            assertTrue(e.getMessage().startsWith("pipelines/rm.yaml: stages[0].loss.delta: expected a number"),
                    e.getMessage());
        }
        new HuberLoss().validate(lossSection(Map.of("delta", "0.5"))); // a number written as a string is a number
        new HuberLoss().validate(Settings.empty("pipelines/rm.yaml", "stages[0].loss"));
        new MeanSquaredErrorLoss().validate(Settings.empty("pipelines/rm.yaml", "stages[0].loss"));
    }

    @Test
    void computeChecksSettingsToo() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> x = tf.constant(new float[] {1, 2});
            assertThrows(SettingsException.class,
                    () -> new HuberLoss().compute(tf, x, x, null, lossSection(Map.of("delta", -1))));
            assertThrows(SettingsException.class,
                    () -> new MeanSquaredErrorLoss().compute(tf, x, x, null, lossSection(Map.of("beta", 1))));
        }
    }

    @Test
    void mismatchedStaticShapesAreNamed() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> p = tf.constant(new float[] {1, 2, 3});
            Operand<TFloat32> t = tf.constant(new float[] {1, 2});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new MeanSquaredErrorLoss().compute(tf, p, t, null));
            assertEquals("mse loss: predictions have shape [3] but targets have shape [2]; both must be [B], one "
                    + "value per example", e.getMessage());
        }
    }
}
