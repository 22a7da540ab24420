package org.align4j.loss.listwise;

import static org.align4j.loss.listwise.Harness.assertRel;
import static org.align4j.loss.listwise.Harness.lossSection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/**
 * {@link PlackettLuceLoss} against its definition in double precision (sort the real completions by rank, then
 * index; sum the log-sum-exp of what remains minus the score drawn), its gradient against central finite differences,
 * and its settings.
 */
class PlackettLuceLossTest {

    final ListwiseLoss loss = new PlackettLuceLoss();

    /** The observed order of one list: its real completions sorted by rank, ties by index. */
    static List<Integer> order(int row, int k, int[] r, float[] m) {
        List<Integer> pi = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (m[row * k + i] > 0) {
                pi.add(i);
            }
        }
        pi.sort(Comparator.<Integer>comparingInt(i -> r[row * k + i]).thenComparingInt(i -> i));
        return pi;
    }

    /** -log P(order) of one list by the definition: sum_k logsumexp_{j >= k} s_pi(j) - s_pi(k). */
    static double negLogLikelihood(double[] s, int row, int k, List<Integer> pi) {
        double nll = 0;
        for (int pos = 0; pos < pi.size(); pos++) {
            double[] rest = new double[pi.size() - pos];
            for (int j = pos; j < pi.size(); j++) {
                rest[j - pos] = s[row * k + pi.get(j)];
            }
            nll += Harness.logSumExp(rest) - s[row * k + pi.get(pos)];
        }
        return nll;
    }

    /** The mean over lists with at least two real completions. */
    static Harness.Reference reference(int b, int k) {
        return (s, r, m) -> {
            double total = 0;
            int lists = 0;
            for (int row = 0; row < b; row++) {
                List<Integer> pi = order(row, k, r, m);
                if (pi.size() >= 2) {
                    total += negLogLikelihood(s, row, k, pi);
                    lists++;
                }
            }
            return lists == 0 ? 0 : total / lists;
        };
    }

    /** The reference is a probability model: exp(-nll) over all 24 orders of four completions sums to 1. */
    @Test
    void referenceIsADistributionOverOrders() {
        double[] s = {0.3, -1.2, 2.0, 0.7};
        double total = 0;
        List<List<Integer>> orders = new ArrayList<>();
        permutations(new ArrayList<>(List.of(0, 1, 2, 3)), 0, orders);
        assertEquals(24, orders.size());
        for (List<Integer> pi : orders) {
            total += Math.exp(-negLogLikelihood(s, 0, 4, pi));
        }
        assertEquals(1.0, total, 1e-12);
        // and the most likely order is by descending score
        assertEquals(List.of(2, 3, 0, 1), orders.stream()
                .min(Comparator.comparingDouble(pi -> negLogLikelihood(s, 0, 4, pi))).orElseThrow());
    }

    private static void permutations(List<Integer> a, int from, List<List<Integer>> out) {
        if (from == a.size()) {
            out.add(List.copyOf(a));
            return;
        }
        for (int i = from; i < a.size(); i++) {
            java.util.Collections.swap(a, from, i);
            permutations(a, from + 1, out);
            java.util.Collections.swap(a, from, i);
        }
    }

    @Test
    void mixedBatchMatchesDefinition() {
        Harness h = Harness.mixed(21, 3, true);
        double expected = h.reference(reference(h.b, h.k));
        assertRel(expected, h.run(loss, null).loss, 1e-5, "loss");
        assertRel(expected, h.run(loss, Settings.empty("pipe.yaml", "stages[0].loss")).loss, 1e-5,
                "loss with empty settings");
    }

    /** Ties are broken by index: ranks {0, 1, 1, 2} score as the explicit order {0, 1, 2, 3}, not as {0, 2, 1, 3}. */
    @Test
    void tiesAreOrderedByIndex() {
        float[] s = Harness.random(22, 4, 3);
        float[] m = {1, 1, 1, 1};
        float tied = new Harness(1, 4, s, new int[] {0, 1, 1, 2}, m).run(loss, null).loss;
        float byIndex = new Harness(1, 4, s, new int[] {0, 1, 2, 3}, m).run(loss, null).loss;
        float swapped = new Harness(1, 4, s, new int[] {0, 2, 1, 3}, m).run(loss, null).loss;
        assertRel(byIndex, tied, 1e-6, "tied vs by index");
        assertTrue(Math.abs(swapped - tied) > 1e-3, "the other tie order differs: " + swapped + " vs " + tied);
    }

    @Test
    void gradientMatchesCentralDifferencesOfTheReference() {
        Harness h = Harness.mixed(23, 3, false);
        double err = h.gradientError(reference(h.b, h.k), h.run(loss, null));
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        float[] s = {1000, -1000, 0, 999, //
                -1000, 1000, 3, -999, //
                1000, 0, -1000, 0};
        int[] r = {0, 3, 1, 2, //
                0, 1, 2, 3, //
                0, 1, 2, 9};
        float[] m = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
        Harness h = new Harness(3, 4, s, r, m);
        Harness.Run run = h.run(loss, null);
        assertTrue(Float.isFinite(run.loss), "loss " + run.loss);
        assertRel(h.reference(reference(3, 4)), run.loss, 1e-5, "loss");
        for (float g : run.grad) {
            assertTrue(Float.isFinite(g), "gradient " + g);
        }
        double err = h.gradientError(reference(3, 4), run);
        assertTrue(err <= 1e-5, "||grad - fd|| / ||fd|| = " + err);
        // the third list alone is ordered by gaps of 1000: its likelihood is 1, its loss 0, not NaN
        Harness ordered = new Harness(1, 4, new float[] {1000, 0, -1000, 0}, new int[] {0, 1, 2, 9},
                new float[] {1, 1, 1, 0});
        assertEquals(0f, ordered.run(loss, null).loss, 1e-6f);
    }

    @Test
    void metricsMatchLoopsOverOrderedPairs() {
        Harness h = Harness.mixed(24, 3, true);
        Harness.Run run = h.run(loss, null);
        double[] expected = h.pairMetrics();
        assertEquals(expected[0], run.accuracy, 1e-6, "accuracy");
        assertEquals(expected[1], run.margin, 1e-5, "margin");
    }

    /** One real completion and all padding: nothing to order, so 0 and no gradient, not NaN. */
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
        assertEquals("pipe.yaml: stages[0].loss.temperature: unknown setting (plackett-luce takes no settings)",
                e.getMessage());
        Harness h = Harness.mixed(25, 1, false);
        assertThrows(SettingsException.class, () -> h.run(loss, lossSection(Map.of("reduction", "sum"))),
                "compute checks its settings too");
    }

    @Test
    void registeredAsPlackettLuce() throws IOException {
        Harness.assertRegistered(PlackettLuceLoss.class, "plackett-luce");
    }
}
