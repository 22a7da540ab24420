package org.align4j.loss.preference;

import static org.align4j.loss.preference.Harness.extremeBatch;
import static org.align4j.loss.preference.Harness.logit;
import static org.align4j.loss.preference.Harness.lossSection;
import static org.align4j.loss.preference.Harness.randomBatch;
import static org.align4j.loss.preference.Harness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * {@link DpoHingeLoss} and its metrics against double-precision loops, its gradient against central differences of
 * the loop (away from the kink), with ties and log-ratio gaps of +-1000; and that it takes no settings.
 */
class DpoHingeLossTest {
    static final MaxErrors MAX = new MaxErrors("dpo-hinge");
    final PreferenceLoss loss = new DpoHingeLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    /** {@code mean_b max(0, 1 - beta * l)}, in double. */
    static Reference reference(Batch b) {
        return (pc, pr) -> {
            double sum = 0;
            for (int i = 0; i < b.size(); i++) {
                sum += Math.max(0, 1 - b.beta * logit(pc, pr, b, i));
            }
            return sum / b.size();
        };
    }

    private void check(Batch b, Settings settings, String what) {
        MAX.check(loss, b, settings, reference(b), what);
    }

    @Test
    void lossMetricsAndGradientMatchTheLoops() {
        check(randomBatch(51, 16, 0.1f), null, "beta 0.1");
        check(randomBatch(52, 16, 0.02f), Settings.empty("pipe.yaml", "stages[0].loss"), "beta 0.02");
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        check(extremeBatch(1f), null, "+-1000");
        Batch lost = new Batch(new float[] {-1010}, new float[] {-10}, new float[] {-500}, new float[] {-500}, 1f);
        Run l = run(loss, lost, null);
        assertEquals(1001f, l.loss, 1e-3f, "lost by 1000: 1 + 1000");
        assertEquals(-1f, l.gradPc[0], 0f, "d loss / d pc, lost by 1000");
        Batch won = new Batch(new float[] {-10}, new float[] {-1010}, new float[] {-500}, new float[] {-500}, 1f);
        Run w = run(loss, won, null);
        assertEquals(0f, w.loss, 0f, "won by 1000");
        assertEquals(0f, w.gradPc[0], 0f, "d loss / d pc, won by 1000");
    }

    @Test
    void tiesCostOneAndCountAsWrong() {
        float[] pc = {-12, -40.5f, -7};
        float[] pr = {-30, -40.5f, -9};
        Batch b = new Batch(pc, pr, pc.clone(), pr.clone(), 0.1f);
        Run run = run(loss, b, null);
        MAX.loss(1, run.loss, 1e-6, "ties");
        assertEquals(0f, run.metrics.get("rewards/accuracies"), 0f, "ties are not right");
        check(b, null, "ties");
    }

    @Test
    void validateRejectsEverySetting() {
        loss.validate(lossSection(Map.of()));
        SettingsException e = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", 0.1))));
        assertTrue(e.getMessage().startsWith("pipe.yaml: stages[0].loss.label_smoothing: unknown setting"),
                e.getMessage());
        assertThrows(SettingsException.class,
                () -> run(loss, randomBatch(1, 2, 0.1f), lossSection(Map.of("margin", 1))));
    }

    @Test
    void registeredAsDpoHingeInThePreferenceFamily() throws IOException {
        Harness.assertRegistered(DpoHingeLoss.class, "dpo-hinge");
    }
}
