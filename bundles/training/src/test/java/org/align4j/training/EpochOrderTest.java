package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class EpochOrderTest {

    /** The example stream of {@code steps} steps of {@code batch}, concatenated. */
    static int[] stream(EpochOrder o, int steps, int batch) {
        int[] out = new int[steps * batch];
        for (int s = 0; s < steps; s++) {
            System.arraycopy(o.batch(s, batch), 0, out, s * batch, batch);
        }
        return out;
    }

    static void assertPermutation(int[] p, int n, String what) {
        assertEquals(n, p.length, what);
        boolean[] seen = new boolean[n];
        for (int i : p) {
            assertTrue(i >= 0 && i < n, what + ": index " + i + " outside [0, " + n + ")");
            assertFalse(seen[i], what + ": index " + i + " twice in " + Arrays.toString(p));
            seen[i] = true;
        }
    }

    @Test
    void everyEpochIsAPermutationEvenWhenBatchesStraddleEpochs() {
        int n = 7;
        for (int batch : new int[] {1, 3, 7, 10}) {
            // lcm(n, batch) / batch steps cover a whole number of epochs
            int epochs = batch / gcd(n, batch);
            int steps = epochs * n / batch;
            int[] s = stream(new EpochOrder(n, 42), steps, batch);
            for (int e = 0; e < epochs; e++) {
                assertPermutation(Arrays.copyOfRange(s, e * n, (e + 1) * n), n, "batch " + batch + ", epoch " + e);
            }
        }
    }

    static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    @Test
    void aStepsExamplesArePureFunctionsOfSeedAndStep() {
        int n = 13;
        int batch = 5;
        EpochOrder walked = new EpochOrder(n, 3);
        int[][] inOrder = new int[40][];
        for (int s = 0; s < 40; s++) {
            inOrder[s] = walked.batch(s, batch);
        }
        // another instance asked in another order (backwards, then jumping around) gives the same batches
        EpochOrder jumping = new EpochOrder(n, 3);
        for (int s = 39; s >= 0; s--) {
            assertArrayEquals(inOrder[s], jumping.batch(s, batch), "step " + s);
        }
        for (int s : new int[] {17, 2, 33, 2, 0, 39}) {
            assertArrayEquals(inOrder[s], new EpochOrder(n, 3).batch(s, batch), "fresh instance, step " + s);
            assertArrayEquals(inOrder[s], jumping.batch(s, batch), "step " + s + " again");
        }
    }

    @Test
    void epochsAndSeedsGiveDifferentOrders() {
        int n = 10;
        int[] s = stream(new EpochOrder(n, 1), 5, n); // five epochs of one batch each
        Set<String> epochs = new HashSet<>();
        for (int e = 0; e < 5; e++) {
            epochs.add(Arrays.toString(Arrays.copyOfRange(s, e * n, (e + 1) * n)));
        }
        assertEquals(5, epochs.size(), "each epoch is shuffled anew: " + epochs);
        List<String> firstEpochs = new ArrayList<>();
        for (long seed = 0; seed < 5; seed++) {
            firstEpochs.add(Arrays.toString(new EpochOrder(n, seed).batch(0, n)));
        }
        assertEquals(5, new HashSet<>(firstEpochs).size(), "different seeds: " + firstEpochs);
        int[] identity = new int[n];
        Arrays.setAll(identity, i -> i);
        assertFalse(Arrays.equals(identity, new EpochOrder(n, 1).batch(0, n)), "the order is shuffled");
    }

    @Test
    void everyExampleIsEquallyLikelyAtEveryPosition() {
        // over 6000 epochs each of 4 examples lands at position 0 about 1500 times; 4 standard deviations
        // (sqrt(6000 * 1/4 * 3/4) = 33.5) is 134
        int n = 4;
        int epochs = 6000;
        int[][] counts = new int[n][n];
        EpochOrder o = new EpochOrder(n, 77);
        for (int e = 0; e < epochs; e++) {
            int[] p = o.batch(e, n);
            for (int pos = 0; pos < n; pos++) {
                counts[p[pos]][pos]++;
            }
        }
        double expected = (double) epochs / n;
        double sd = Math.sqrt(epochs * (1.0 / n) * (1 - 1.0 / n));
        for (int i = 0; i < n; i++) {
            for (int pos = 0; pos < n; pos++) {
                assertTrue(Math.abs(counts[i][pos] - expected) < 4 * sd,
                        "example " + i + " at position " + pos + ": " + counts[i][pos] + " of " + epochs);
            }
        }
    }

    @Test
    void epochIsExamplesSeenOverExamples() {
        EpochOrder o = new EpochOrder(8, 0);
        for (long steps : new long[] {0, 1, 3, 4, 17}) {
            assertEquals(steps * 3 / 8.0, o.epoch(steps, 3), 1e-12, "after " + steps + " steps of 3");
        }
    }

    @Test
    void noExamplesIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EpochOrder(0, 1));
        assertTrue(e.getMessage().contains("no examples"), e.getMessage());
    }
}
