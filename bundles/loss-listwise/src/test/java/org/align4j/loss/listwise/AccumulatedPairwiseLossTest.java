package org.align4j.loss.listwise;

import static org.align4j.loss.listwise.Harness.assertRel;
import static org.align4j.loss.listwise.Harness.lossSection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/**
 * {@link AccumulatedPairwiseLoss} against a double-precision loop over pairs, its gradient against central finite
 * differences of that loop, its metrics, and its settings.
 */
class AccumulatedPairwiseLossTest {

    final ListwiseLoss loss = new AccumulatedPairwiseLoss();

    /**
     * For each list, -log sigmoid(s_i - s_j) over the pairs of real completions with rank_i < rank_j, summed or
     * averaged over those pairs; then the mean over the lists that have a pair.
     */
    static Harness.Reference reference(int b, int k, boolean mean) {
        return (s, r, m) -> {
            double total = 0;
            int lists = 0;
            for (int row = 0; row < b; row++) {
                double sum = 0;
                int pairs = 0;
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < k; j++) {
                        int a = row * k + i;
                        int c = row * k + j;
                        if (m[a] > 0 && m[c] > 0 && r[a] < r[c]) {
                            sum += Harness.negLogSigmoid(s[a] - s[c]);
                            pairs++;
                        }
                    }
                }
                if (pairs > 0) {
                    total += mean ? sum / pairs : sum;
                    lists++;
                }
            }
            return lists == 0 ? 0 : total / lists;
        };
    }

    @Test
    void referenceAgreesWithAHandComputedList() {
        // one list, ranks 0 < 1 < 2 on scores 2, 1, 0: pairs with gaps 1, 2, 1
        double expected = (2 * Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-2))) / 3;
        assertEquals(expected, reference(1, 3, true).loss(new double[] {2, 1, 0}, new int[] {0, 1, 2},
                new float[] {1, 1, 1}), 1e-15);
    }

    @Test
    void mixedBatchMatchesReferenceForBothReductions() {
        Harness h = Harness.mixed(11, 3, true);
        double mean = h.reference(reference(h.b, h.k, true));
        double sum = h.reference(reference(h.b, h.k, false));
        assertTrue(Math.abs(mean - sum) > 0.1, "the batch tells the reductions apart");
        assertRel(mean, h.run(loss, null).loss, 1e-5, "default (mean)");
        assertRel(mean, h.run(loss, Settings.empty("pipe.yaml", "stages[0].loss")).loss, 1e-5, "empty settings");
        assertRel(mean, h.run(loss, lossSection(Map.of("reduction", "mean"))).loss, 1e-5, "reduction: mean");
        assertRel(sum, h.run(loss, lossSection(Map.of("reduction", "sum"))).loss, 1e-5, "reduction: sum");
    }

    @Test
    void gradientMatchesCentralDifferencesOfTheReference() {
        Harness h = Harness.mixed(12, 3, false);
        double errMean = h.gradientError(reference(h.b, h.k, true), h.run(loss, null));
        assertTrue(errMean <= 1e-5, "mean: ||grad - fd|| / ||fd|| = " + errMean);
        double errSum = h.gradientError(reference(h.b, h.k, false),
                h.run(loss, lossSection(Map.of("reduction", "sum"))));
        assertTrue(errSum <= 1e-5, "sum: ||grad - fd|| / ||fd|| = " + errSum);
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
        assertRel(h.reference(reference(2, 4, true)), run.loss, 1e-5, "loss");
        for (float g : run.grad) {
            assertTrue(Float.isFinite(g), "gradient " + g);
        }
        double err = h.gradientError(reference(2, 4, true), run);
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }

    @Test
    void metricsMatchLoopsOverOrderedPairs() {
        Harness h = Harness.mixed(13, 3, true);
        Harness.Run run = h.run(loss, null);
        double[] expected = h.pairMetrics();
        assertEquals(expected[0], run.accuracy, 1e-6, "accuracy");
        assertEquals(expected[1], run.margin, 1e-5, "margin");
    }

    /** One real completion, all padding, all tied: no pair anywhere, so 0 and no gradient, not NaN. */
    @Test
    void listsWithoutPairsGiveZero() {
        float[] s = {1, 2, Float.NaN, 3, 3, 3};
        int[] r = {0, 0, 1, 2, 2, 2};
        float[] m = {0, 1, 0, 1, 1, 1};
        Harness.Run run = new Harness(2, 3, s, r, m).run(loss, null);
        assertEquals(0f, run.loss, 0f);
        for (float g : run.grad) {
            assertEquals(0f, g, 0f);
        }
        assertEquals(0f, run.accuracy, 0f);
    }

    @Test
    void validateAcceptsMeanAndSumOnly() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("reduction", "mean")));
        loss.validate(lossSection(Map.of("reduction", "sum")));
        SettingsException bad = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("reduction", "avg"))));
        assertEquals("pipe.yaml: stages[0].loss.reduction: expected mean or sum, got \"avg\"", bad.getMessage());
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("reduce", "sum"))));
        assertEquals("pipe.yaml: stages[0].loss.reduce: unknown setting (accepted here: reduction)",
                unknown.getMessage());
        Harness h = Harness.mixed(14, 1, false);
        assertThrows(SettingsException.class, () -> h.run(loss, lossSection(Map.of("reduction", "max"))),
                "compute checks its settings too");
    }

    @Test
    void registeredAsAccumulatedPairwise() throws IOException {
        Harness.assertRegistered(AccumulatedPairwiseLoss.class, "accumulated-pairwise");
    }
}
