package org.align4j.loss.listwise;

import static org.align4j.loss.listwise.Harness.assertRel;
import static org.align4j.loss.listwise.Harness.lossSection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/**
 * {@link ListNetLoss} against a double-precision loop (top-one probabilities from exp(-rank) and from exp(score) over
 * the real completions, cross-entropy), its gradient against central finite differences, and its settings.
 */
class ListNetLossTest {

    final ListwiseLoss loss = new ListNetLoss();

    /** -sum_i p_i log q_i per list, p from exp(-rank), q from exp(s), over real completions; mean over lists of 2+. */
    static Harness.Reference reference(int b, int k) {
        return (s, r, m) -> {
            double total = 0;
            int lists = 0;
            for (int row = 0; row < b; row++) {
                int n = 0;
                for (int i = 0; i < k; i++) {
                    n += m[row * k + i] > 0 ? 1 : 0;
                }
                if (n < 2) {
                    continue;
                }
                double[] target = new double[n];
                double[] score = new double[n];
                for (int i = 0, c = 0; i < k; i++) {
                    if (m[row * k + i] > 0) {
                        target[c] = -r[row * k + i];
                        score[c++] = s[row * k + i];
                    }
                }
                double zt = Harness.logSumExp(target);
                double zs = Harness.logSumExp(score);
                double ce = 0;
                for (int c = 0; c < n; c++) {
                    ce -= Math.exp(target[c] - zt) * (score[c] - zs);
                }
                total += ce;
                lists++;
            }
            return lists == 0 ? 0 : total / lists;
        };
    }

    @Test
    void referenceIsMinimalAtMinusRankWhereItEqualsTheTargetEntropy() {
        int[] r = {0, 1, 1, 3};
        float[] m = {1, 1, 1, 1};
        double atTarget = reference(1, 4).loss(new double[] {5, 4, 4, 2}, r, m); // -rank + 5
        double z = Math.log(1 + 2 * Math.exp(-1) + Math.exp(-3));
        double entropy = 0;
        for (int rank : r) {
            double p = Math.exp(-rank - z);
            entropy -= p * Math.log(p);
        }
        assertEquals(entropy, atTarget, 1e-12);
        assertTrue(reference(1, 4).loss(new double[] {5, 4.1, 4, 2}, r, m) > atTarget);
    }

    @Test
    void mixedBatchMatchesReference() {
        Harness h = Harness.mixed(31, 3, true);
        assertRel(h.reference(reference(h.b, h.k)), h.run(loss, null).loss, 1e-5, "loss");
    }

    @Test
    void gradientMatchesCentralDifferencesOfTheReference() {
        Harness h = Harness.mixed(32, 3, false);
        double err = h.gradientError(reference(h.b, h.k), h.run(loss, null));
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        float[] s = {1000, -1000, 0, 999, //
                -1000, 1000, 3, -999};
        int[] r = {0, 3, 1, 2, //
                0, 1, 2, 3};
        Harness h = new Harness(2, 4, s, r, new float[] {1, 1, 1, 1, 1, 1, 1, 1});
        Harness.Run run = h.run(loss, null);
        assertTrue(Float.isFinite(run.loss), "loss " + run.loss);
        assertRel(h.reference(reference(2, 4)), run.loss, 1e-5, "loss");
        for (float g : run.grad) {
            assertTrue(Float.isFinite(g), "gradient " + g);
        }
        double err = h.gradientError(reference(2, 4), run);
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }

    /** Ranks far apart (or garbage at padding) are fine: exp(-rank) is normalised with the maximum subtracted. */
    @Test
    void largeRankValuesStayFinite() {
        float[] s = Harness.random(33, 4, 2);
        int[] r = {0, 1000, 2000, Integer.MAX_VALUE};
        Harness h = new Harness(1, 4, s, r, new float[] {1, 1, 1, 0});
        Harness.Run run = h.run(loss, null);
        assertRel(h.reference(reference(1, 4)), run.loss, 1e-5, "loss");
    }

    @Test
    void metricsMatchLoopsOverOrderedPairs() {
        Harness h = Harness.mixed(34, 3, true);
        Harness.Run run = h.run(loss, null);
        double[] expected = h.pairMetrics();
        assertEquals(expected[0], run.accuracy, 1e-6, "accuracy");
        assertEquals(expected[1], run.margin, 1e-5, "margin");
    }

    /** One real completion and all padding: nothing to compare, so 0 and no gradient, not NaN. */
    @Test
    void listsWithFewerThanTwoRealGiveZero() {
        float[] s = {Float.NaN, 2, Float.NaN, 5, 6, 7};
        int[] r = {0, 0, 1, 2, 1, 0};
        float[] m = {0, 1, 0, 0, 0, 0};
        Harness.Run run = new Harness(2, 3, s, r, m).run(loss, null);
        assertEquals(0f, run.loss, 0f);
        for (float g : run.grad) {
            assertEquals(0f, g, 0f);
        }
    }

    @Test
    void validateRejectsAnySetting() {
        loss.validate(lossSection(Map.of()));
        SettingsException e = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("temperature", 2))));
        assertEquals("pipe.yaml: stages[0].loss.temperature: unknown setting (listnet takes no settings)",
                e.getMessage());
        Harness h = Harness.mixed(35, 1, false);
        assertThrows(SettingsException.class, () -> h.run(loss, lossSection(Map.of("reduction", "sum"))),
                "compute checks its settings too");
    }

    @Test
    void registeredAsListNet() throws IOException {
        Harness.assertRegistered(ListNetLoss.class, "listnet");
    }
}
