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
 * {@link DpoLoss} and its metrics against double-precision loops, its gradient against central differences of the
 * loop, at label smoothing 0 and above, with ties and log-ratio gaps of +-1000; and its settings checks.
 */
class DpoLossTest {
    static final MaxErrors MAX = new MaxErrors("dpo");
    final PreferenceLoss loss = new DpoLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    /** {@code mean_b (1 - eps) * -log sigmoid(beta * l) + eps * -log sigmoid(-beta * l)}, in double. */
    static Reference reference(Batch b, double eps) {
        return (pc, pr) -> {
            double sum = 0;
            for (int i = 0; i < b.size(); i++) {
                double z = b.beta * logit(pc, pr, b, i);
                sum += (1 - eps) * negLogSigmoid(z) + eps * negLogSigmoid(-z);
            }
            return sum / b.size();
        };
    }

    private void check(Batch b, double eps, Settings settings, String what) {
        MAX.check(loss, b, settings, reference(b, eps), what);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.1, 0.3, 0.49})
    void lossMetricsAndGradientMatchTheLoops(double eps) {
        Batch b = randomBatch(11, 16, 0.1f);
        check(b, eps, lossSection(Map.of("label_smoothing", eps)), "label_smoothing " + eps);
    }

    @Test
    void defaultsAreNoLabelSmoothing() {
        Batch b = randomBatch(21, 8, 0.5f);
        check(b, 0, null, "compute(tf, batch)");
        check(b, 0, Settings.empty("pipe.yaml", "stages[0].loss"), "empty settings");
        check(b, 0, lossSection(Map.of("label_smoothing", "0")), "label_smoothing \"0\"");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.2})
    void gapsOfAThousandStayFiniteAndRight(double eps) {
        check(extremeBatch(1f), eps, lossSection(Map.of("label_smoothing", eps)), "+-1000, eps " + eps);
        check(extremeBatch(0.1f), eps, lossSection(Map.of("label_smoothing", eps)), "+-100, eps " + eps);
    }

    /** One pair won by 1000 costs nothing and pulls nothing; one lost by 1000 costs 1000 and pulls with beta. */
    @Test
    void aPairWonOrLostByAThousand() {
        Batch won = new Batch(new float[] {-10}, new float[] {-1010}, new float[] {-500}, new float[] {-500}, 1f);
        Run w = run(loss, won, null);
        assertEquals(0f, w.loss, 0f, "won by 1000");
        assertEquals(0f, w.gradPc[0], 0f, "d loss / d pc, won by 1000");
        Batch lost = new Batch(new float[] {-1010}, new float[] {-10}, new float[] {-500}, new float[] {-500}, 1f);
        Run l = run(loss, lost, null);
        MAX.loss(reference(lost, 0).loss(new double[] {-1010}, new double[] {-10}), l.loss, 1e-6, "lost by 1000");
        assertEquals(1000f, l.loss, 1e-3f, "lost by 1000: the loss is the gap");
        assertEquals(-1f, l.gradPc[0], 1e-6f, "d loss / d pc, lost by 1000");
        assertEquals(1f, l.gradPr[0], 1e-6f, "d loss / d pr, lost by 1000");
    }

    /** Logits of 0 (the policy is the reference): log 2 whatever eps, accuracy 0 (a tie is not right). */
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
    void emptyBatchGivesZeroNotNaN() {
        Run run = run(loss, new Batch(new float[0], new float[0], new float[0], new float[0], 0.1f),
                lossSection(Map.of("label_smoothing", 0.1)));
        assertEquals(0f, run.loss, 0f);
        for (String m : Harness.METRICS) {
            assertEquals(0f, run.metrics.get(m), 0f, m);
        }
    }

    @Test
    void validateRejectsUnknownKeysAndLabelSmoothingOutOfRangeNamingTheKey() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("label_smoothing", 0.0)));
        loss.validate(lossSection(Map.of("label_smoothing", 0.4999)));
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smothing", 0.1))));
        assertEquals("pipe.yaml: stages[0].loss.label_smothing: unknown setting (accepted here: label_smoothing)",
                unknown.getMessage());
        for (double bad : new double[] {0.5, -0.1, 1, Double.NaN}) {
            SettingsException e = assertThrows(SettingsException.class,
                    () -> loss.validate(lossSection(Map.of("label_smoothing", bad))));
            assertEquals("pipe.yaml: stages[0].loss.label_smoothing: expected a number in [0, 0.5) (the share of "
                    + "flipped labels; 0 = off), got " + bad, e.getMessage());
        }
        SettingsException word = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", "some"))));
        assertEquals("pipe.yaml: stages[0].loss.label_smoothing: expected a number, got \"some\"", word.getMessage());
        // compute checks the same way before it builds anything
        assertThrows(SettingsException.class,
                () -> run(loss, randomBatch(1, 2, 0.1f), lossSection(Map.of("label_smoothing", 0.5))));
    }

    @Test
    void registeredAsDpoInThePreferenceFamily() throws IOException {
        Harness.assertRegistered(DpoLoss.class, "dpo");
    }
}
