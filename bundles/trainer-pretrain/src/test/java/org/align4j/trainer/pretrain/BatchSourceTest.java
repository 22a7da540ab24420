package org.align4j.trainer.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class BatchSourceTest {
    /** Rows of L + 1 tokens overlapping by one, cut from the stream 0, 1, 2, ... as the packer cuts them. */
    private static int[][] rows(int n, int l) {
        int[][] r = new int[n][l + 1];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t <= l; t++) {
                r[i][t] = i * l + t;
            }
        }
        return r;
    }

    @Test
    void everyRowIsAContiguousPieceOfTheStream() {
        BatchSource s = new BatchSource(rows(20, 8), 4, 3);
        for (int step = 0; step < 40; step++) { // 8 epochs
            for (int[] row : s.batch(step)) {
                assertEquals(9, row.length);
                for (int t = 1; t < row.length; t++) {
                    assertEquals(row[t - 1] + 1, row[t], Arrays.toString(row));
                }
                assertTrue(row[0] >= 0 && row[8] <= 20 * 8, Arrays.toString(row));
            }
        }
    }

    @Test
    void theFirstEpochVisitsEveryPackedRowOnceAndLaterEpochsShiftTheCut() {
        BatchSource s = new BatchSource(rows(12, 8), 1, 9);
        // a cut shifted by up to L - 1 tokens leaves room for one row less than the packer made
        assertEquals(11, s.blockCount());
        Set<Integer> firstEpoch = new HashSet<>();
        for (int step = 0; step < 11; step++) {
            for (int[] row : s.batch(step)) {
                assertEquals(0, row[0] % 8, "epoch 0 keeps the packer's cut");
                firstEpoch.add(row[0]);
            }
        }
        assertEquals(11, firstEpoch.size());
        assertEquals(1.0, s.epoch(11));
        Set<Integer> offsets = new HashSet<>();
        for (int step = 11; step < 11 * 20; step++) {
            for (int[] row : s.batch(step)) {
                offsets.add(row[0] % 8);
            }
        }
        assertTrue(offsets.size() > 3, "cuts seen in later epochs: " + offsets);
    }

    @Test
    void theBatchOfAStepDependsOnlyOnSeedAndStep() {
        BatchSource a = new BatchSource(rows(10, 4), 3, 5);
        BatchSource b = new BatchSource(rows(10, 4), 3, 5);
        // b jumps straight to step 17 (as a resumed run does); a walks there
        for (int step = 0; step < 17; step++) {
            a.batch(step);
        }
        assertArrayEquals(a.batch(17), b.batch(17));
        assertNotEquals(Arrays.deepToString(new BatchSource(rows(10, 4), 3, 6).batch(17)),
                Arrays.deepToString(b.batch(17)));
    }

    @Test
    void batchesCrossEpochBoundaries() {
        BatchSource s = new BatchSource(rows(5, 1), 3, 1); // L = 1: every cut is the same
        // 5 steps of 3 = 15 samples = exactly 3 epochs of 5 blocks, although no batch lines up with an epoch
        int[] seen = new int[5];
        for (int step = 0; step < 5; step++) {
            for (int[] row : s.batch(step)) {
                seen[row[0]]++;
            }
        }
        assertArrayEquals(new int[] {3, 3, 3, 3, 3}, seen);
        assertEquals(3.0, s.epoch(5));
    }

    @Test
    void noBlocksIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BatchSource(new int[0][], 2, 1));
        assertEquals("no training block: the corpus is shorter than one context", e.getMessage());
    }
}
