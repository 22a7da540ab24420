package org.align4j.loss.pairwise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PairwiseLoss;
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
 * {@link BradleyTerryLoss} against a double-precision loop reference, its gradient against central finite differences
 * of that reference, its metrics against loops, and its settings checks.
 */
class BradleyTerryLossTest {

    static final String[] METRICS = {"accuracy", "margin", "min_reward", "mean_reward", "max_reward"};

    /** Loss, metrics (in {@link #METRICS} order) and d loss / d chosen, d loss / d rejected from the graph. */
    static final class Run {
        float loss;
        float[] metrics = new float[METRICS.length];
        float[] gradChosen;
        float[] gradRejected;
    }

    /** Builds with {@code compute(..., settings)} when settings is not null, else with the four-argument form. */
    static Run run(float[] chosen, float[] rejected, float[] margin, Settings settings) {
        int b = chosen.length;
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> c = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
            Placeholder<TFloat32> r = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
            Placeholder<TFloat32> m = margin == null ? null
                    : tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
            PairwiseLoss loss = new BradleyTerryLoss();
            LossResult result = settings == null ? loss.compute(tf, c, r, m) : loss.compute(tf, c, r, m, settings);
            Output<?>[] grad = g.addGradients(result.loss().asOutput(),
                    new Output<?>[] {c.asOutput(), r.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 ct = TFloat32.tensorOf(Shape.of(b), DataBuffers.of(chosen, true, false));
                    TFloat32 rt = TFloat32.tensorOf(Shape.of(b), DataBuffers.of(rejected, true, false));
                    TFloat32 mt = TFloat32.tensorOf(Shape.of(b),
                            DataBuffers.of(margin == null ? new float[b] : margin, true, false))) {
                Session.Runner runner = s.runner().feed(c, ct).feed(r, rt);
                if (m != null) {
                    runner.feed(m, mt);
                }
                runner.fetch(result.loss());
                for (String name : METRICS) {
                    Operand<TFloat32> metric = result.metrics().get(name);
                    assertTrue(metric != null, "metric " + name + " missing: " + result.metrics().keySet());
                    runner.fetch(metric);
                }
                runner.fetch(grad[0]).fetch(grad[1]);
                try (Result out = runner.run()) {
                    Run run = new Run();
                    run.loss = ((TFloat32) out.get(0)).getFloat();
                    for (int i = 0; i < METRICS.length; i++) {
                        run.metrics[i] = ((TFloat32) out.get(1 + i)).getFloat();
                    }
                    run.gradChosen = new float[b];
                    run.gradRejected = new float[b];
                    ((TFloat32) out.get(1 + METRICS.length)).copyTo(DataBuffers.of(run.gradChosen, false, false));
                    ((TFloat32) out.get(2 + METRICS.length)).copyTo(DataBuffers.of(run.gradRejected, false, false));
                    return run;
                }
            }
        }
    }

    /** -log sigmoid(x) in double: max(-x, 0) + log(1 + exp(-|x|)). */
    static double negLogSigmoid(double x) {
        return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** mean_b -log sigmoid(c - r - m) + center * mean_b (c + r)^2, by a loop in double. */
    static double reference(double[] c, double[] r, float[] m, double center) {
        double bt = 0;
        double sq = 0;
        for (int i = 0; i < c.length; i++) {
            double x = c[i] - r[i] - (m == null ? 0 : m[i]);
            bt += negLogSigmoid(x);
            sq += (c[i] + r[i]) * (c[i] + r[i]);
        }
        return bt / c.length + center * sq / c.length;
    }

    static float[] random(long seed, int n, double scale) {
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

    /** The loss section of a stage, as the pipeline hands it to a loss (without {@code name}). */
    static Settings lossSection(Map<String, ?> values) {
        return Settings.of("pipe.yaml", Map.of("stages", List.of(Map.of("loss", values)))).sections("stages").get(0)
                .section("loss");
    }

    private static void assertRel(double expected, double actual, double tol, String what) {
        double err = Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    /** Norm-wise relative error of the graph's gradient against central differences (step 1e-5) of the reference. */
    static double gradientError(float[] chosen, float[] rejected, float[] margin, double center, Run run) {
        double[] c = toDouble(chosen);
        double[] r = toDouble(rejected);
        double num = 0;
        double den = 0;
        double eps = 1e-5;
        for (double[] x : new double[][] {c, r}) {
            float[] graph = x == c ? run.gradChosen : run.gradRejected;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + eps;
                double plus = reference(c, r, margin, center);
                x[i] = keep - eps;
                double minus = reference(c, r, margin, center);
                x[i] = keep;
                double fd = (plus - minus) / (2 * eps);
                num += (graph[i] - fd) * (graph[i] - fd);
                den += fd * fd;
            }
        }
        assertTrue(den > 0, "the reference gradient is zero: nothing checked");
        return Math.sqrt(num / den);
    }

    @Test
    void lossMatchesReferenceWithAndWithoutMargin() {
        float[] c = random(1, 8, 3);
        float[] r = random(2, 8, 3);
        float[] m = random(3, 8, 1);
        Run plain = run(c, r, null, null);
        assertRel(reference(toDouble(c), toDouble(r), null, 0), plain.loss, 1e-5, "loss without margin");
        Run withMargin = run(c, r, m, null);
        assertRel(reference(toDouble(c), toDouble(r), m, 0), withMargin.loss, 1e-5, "loss with margin");
        // an all-zero margin is the same as none
        assertEquals(plain.loss, run(c, r, new float[8], null).loss, 1e-7f);
    }

    @Test
    void centeringTermComesFromSettings() {
        float[] c = random(4, 6, 2);
        float[] r = random(5, 6, 2);
        float[] m = random(6, 6, 0.5);
        Run centered = run(c, r, m, lossSection(Map.of("center", 0.25)));
        assertRel(reference(toDouble(c), toDouble(r), m, 0.25), centered.loss, 1e-5, "loss with center 0.25");
        assertTrue(gradientError(c, r, m, 0.25, centered) <= 1e-5, "gradient with center");
        // empty settings (the stage wrote `loss: bradley-terry`) and center 0 are the defaults
        assertEquals(run(c, r, m, null).loss, run(c, r, m, Settings.empty("pipe.yaml", "stages[0].loss")).loss);
        assertEquals(run(c, r, m, null).loss, run(c, r, m, lossSection(Map.of("center", "0"))).loss);
    }

    /**
     * d loss / d chosen and d loss / d rejected against central differences of the double reference: norm-wise
     * relative error below 1e-5.
     */
    @Test
    void gradientMatchesCentralDifferencesOfTheReference() {
        float[] c = random(7, 10, 4);
        float[] r = random(8, 10, 4);
        float[] m = random(9, 10, 1);
        Run run = run(c, r, m, null);
        double err = gradientError(c, r, m, 0, run);
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }

    /**
     * Equal scores (an untrained model) sit at the kink of relu(-x) and |x|: the gradient must still be
     * -sigmoid(0) / B = -1/(2B) for chosen and +1/(2B) for rejected, not 0.
     */
    @Test
    void gradientAtEqualScoresIsOneHalfPerPair() {
        float[] zeros = new float[4];
        Run run = run(zeros, zeros.clone(), null, null);
        assertRel(Math.log(2), run.loss, 1e-6, "loss at x = 0");
        for (int i = 0; i < 4; i++) {
            assertEquals(-0.125f, run.gradChosen[i], 1e-7f, "d loss / d chosen[" + i + "]");
            assertEquals(0.125f, run.gradRejected[i], 1e-7f, "d loss / d rejected[" + i + "]");
        }
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        float[] c = {1000, -1000, 0.5f, 3, 1000};
        float[] r = {-1000, 1000, 0.2f, -2, 999};
        Run run = run(c, r, null, null);
        assertTrue(Float.isFinite(run.loss), "loss " + run.loss);
        assertRel(reference(toDouble(c), toDouble(r), null, 0), run.loss, 1e-6, "loss with gaps of 2000");
        for (int i = 0; i < c.length; i++) {
            assertTrue(Float.isFinite(run.gradChosen[i]) && Float.isFinite(run.gradRejected[i]), "gradient " + i);
        }
        assertEquals(0f, run.gradChosen[0], 0f, "a pair won by 2000 has no gradient");
        assertEquals(-1f / c.length, run.gradChosen[1], 1e-7f, "a pair lost by 2000 has the full gradient");
        double err = gradientError(c, r, null, 0, run);
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
        // every pair won by a mile: the loss is exp(-2000) = 0, not NaN
        Run won = run(new float[] {1000, 1000}, new float[] {-1000, -1000}, null, null);
        assertEquals(0f, won.loss, 0f);
    }

    @Test
    void metricsMatchLoops() {
        float[] c = {1, 2, 3, -1, 0.5f, 7};
        float[] r = {0, 2, 4, -2, 0.5f, -7};
        float[] m = {5, 5, 5, 5, 5, 5}; // the margin input changes neither accuracy nor margin
        Run run = run(c, r, m, null);
        double correct = 0;
        double diff = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < c.length; i++) {
            correct += c[i] > r[i] ? 1 : 0; // ties (indices 1 and 4) are not correct
            diff += c[i] - r[i];
            for (double v : new double[] {c[i], r[i]}) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
        }
        assertEquals(3.0 / 6, correct / c.length, 0, "the loop itself: pairs 0, 3 and 5 are right");
        assertEquals(correct / c.length, run.metrics[0], 1e-7, "accuracy");
        assertEquals(diff / c.length, run.metrics[1], 1e-6, "margin");
        assertEquals(min, run.metrics[2], 0, "min_reward");
        assertEquals(sum / (2 * c.length), run.metrics[3], 1e-6, "mean_reward");
        assertEquals(max, run.metrics[4], 0, "max_reward");
    }

    @Test
    void emptyBatchGivesZeroNotNaN() {
        Run run = run(new float[0], new float[0], null, lossSection(Map.of("center", 0.1)));
        assertEquals(0f, run.loss, 0f);
        assertEquals(0f, run.metrics[0], 0f, "accuracy");
    }

    @Test
    void validateRejectsUnknownKeysAndBadValuesNamingFileAndKey() {
        PairwiseLoss loss = new BradleyTerryLoss();
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("center", 0.01)));
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("centre", 0.01))));
        assertEquals("pipe.yaml: stages[0].loss.centre: unknown setting (accepted here: center)",
                unknown.getMessage());
        SettingsException negative = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("center", -0.5))));
        assertEquals("pipe.yaml: stages[0].loss.center: expected a number >= 0 (0 = off; TRL suggests 0.01), got -0.5",
                negative.getMessage());
        SettingsException word = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("center", "lots"))));
        assertEquals("pipe.yaml: stages[0].loss.center: expected a number, got \"lots\"", word.getMessage());
        // compute checks the same way before it builds anything
        assertThrows(SettingsException.class, () -> run(new float[] {1}, new float[] {0}, null,
                lossSection(Map.of("center", Double.NaN))));
    }

    /** bnd wrote a DS component that registers the contract with the name and family pipelines select it by. */
    @Test
    void registeredAsBradleyTerryInThePairwiseFamily() throws IOException {
        String xml;
        try (InputStream in = BradleyTerryLoss.class.getClassLoader()
                .getResourceAsStream("OSGI-INF/" + BradleyTerryLoss.class.getName() + ".xml")) {
            assertTrue(in != null, "no DS descriptor generated for " + BradleyTerryLoss.class.getName());
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(xml.contains("name=\"align4j.name\"") && xml.contains("value=\"bradley-terry\""), xml);
        assertTrue(xml.contains("name=\"align4j.family\"") && xml.contains("value=\"pairwise\""), xml);
        assertTrue(xml.contains("interface=\"" + PairwiseLoss.class.getName() + "\""), xml);
    }
}
