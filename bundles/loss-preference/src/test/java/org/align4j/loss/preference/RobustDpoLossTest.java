package org.align4j.loss.preference;

import static org.align4j.loss.preference.Harness.extremeBatch;
import static org.align4j.loss.preference.Harness.logit;
import static org.align4j.loss.preference.Harness.lossSection;
import static org.align4j.loss.preference.Harness.negLogSigmoid;
import static org.align4j.loss.preference.Harness.randomBatch;
import static org.align4j.loss.preference.Harness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Map;

import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.loss.preference.Harness.Batch;
import org.align4j.loss.preference.Harness.MaxErrors;
import org.align4j.loss.preference.Harness.Reference;
import org.align4j.loss.preference.Harness.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RobustDpoLoss} and its metrics against the paper's formula by double-precision loops, its gradient against
 * central differences of the loop, at label smoothing 0 and above, with ties and log-ratio gaps of +-1000; and its
 * settings checks.
 */
class RobustDpoLossTest {
    static final MaxErrors MAX = new MaxErrors("robust-dpo");
    final PreferenceLoss loss = new RobustDpoLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    /**
     * {@code mean_b (-(1 - eps) * log sigmoid(z) + eps * log sigmoid(-z)) / (1 - 2 eps)}, {@code z = beta * l}, in
     * double, as the paper and TRL write it.
     */
    static Reference reference(Batch b, double eps) {
        return (pc, pr) -> {
            double sum = 0;
            for (int i = 0; i < b.size(); i++) {
                double z = b.beta * logit(pc, pr, b, i);
                double logSigmoid = -negLogSigmoid(z);
                double logSigmoidNeg = -negLogSigmoid(-z);
                sum += (-(1 - eps) * logSigmoid + eps * logSigmoidNeg) / (1 - 2 * eps);
            }
            return sum / b.size();
        };
    }

    private void check(Batch b, double eps, Settings settings, String what) {
        MAX.check(loss, b, settings, reference(b, eps), what);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.1, 0.3, 0.45})
    void lossMetricsAndGradientMatchTheLoops(double eps) {
        Batch b = randomBatch(31, 16, 0.1f);
        check(b, eps, lossSection(Map.of("label_smoothing", eps)), "label_smoothing " + eps);
    }

    @Test
    void defaultsAreNoLabelSmoothing() {
        Batch b = randomBatch(41, 8, 0.5f);
        check(b, 0, null, "compute(tf, batch)");
        check(b, 0, Settings.empty("pipe.yaml", "stages[0].loss"), "empty settings");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.1, 0.4})
    void gapsOfAThousandStayFiniteAndRight(double eps) {
        check(extremeBatch(1f), eps, lossSection(Map.of("label_smoothing", eps)), "+-1000, eps " + eps);
        check(extremeBatch(0.1f), eps, lossSection(Map.of("label_smoothing", eps)), "+-100, eps " + eps);
    }

    /**
     * With eps = 0.1, a pair won by 1000 gives {@code -0.1 / 0.8 * 1000 = -125} (the loss is unbounded below) and
     * one lost by 1000 gives {@code 1000 + 125}.
     */
    @Test
    void aPairWonOrLostByAThousand() {
        Settings eps = lossSection(Map.of("label_smoothing", 0.1));
        Batch won = new Batch(new float[] {-10}, new float[] {-1010}, new float[] {-500}, new float[] {-500}, 1f);
        Run w = run(loss, won, eps);
        MAX.loss(reference(won, 0.1).loss(new double[] {-10}, new double[] {-1010}), w.loss, 1e-6, "won by 1000");
        assertEquals(-125f, w.loss, 1e-3f, "won by 1000");
        Batch lost = new Batch(new float[] {-1010}, new float[] {-10}, new float[] {-500}, new float[] {-500}, 1f);
        Run l = run(loss, lost, eps);
        MAX.loss(reference(lost, 0.1).loss(new double[] {-1010}, new double[] {-10}), l.loss, 1e-6, "lost by 1000");
        assertEquals(1125f, l.loss, 1e-3f, "lost by 1000");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.25})
    void tiesCostLogTwoAndCountAsWrong(double eps) {
        float[] pc = {-12, -40.5f, -7};
        float[] pr = {-30, -40.5f, -9};
        Batch b = new Batch(pc, pr, pc.clone(), pr.clone(), 0.1f);
        Run run = run(loss, b, lossSection(Map.of("label_smoothing", eps)));
        MAX.loss(Math.log(2), run.loss, 1e-6, "ties, eps " + eps);
        assertEquals(0f, run.metrics.get("rewards/accuracies"), 0f, "ties are not right");
        check(b, eps, lossSection(Map.of("label_smoothing", eps)), "ties, eps " + eps);
    }

    @Test
    void validateRejectsUnknownKeysAndLabelSmoothingOutOfRangeNamingTheKey() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("label_smoothing", 0.2)));
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", 0.1, "beta", 0.1))));
        assertEquals("pipe.yaml: stages[0].loss.beta: unknown setting (accepted here: label_smoothing)",
                unknown.getMessage());
        SettingsException half = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", 0.5))));
        assertEquals("pipe.yaml: stages[0].loss.label_smoothing: expected a number in [0, 0.5) (the share of "
                + "flipped labels; 0 = off), got 0.5", half.getMessage());
        assertThrows(SettingsException.class,
                () -> run(loss, randomBatch(1, 2, 0.1f), lossSection(Map.of("label_smoothing", -0.01))));
    }

    @Test
    void registeredAsRobustDpoInThePreferenceFamily() throws IOException {
        Harness.assertRegistered(RobustDpoLoss.class, "robust-dpo");
    }
}
