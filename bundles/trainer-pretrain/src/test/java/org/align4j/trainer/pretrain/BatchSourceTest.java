package org.align4j.trainer.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class BatchSourceTest {
    private static int[][] blocks(int n) {
        int[][] b = new int[n][];
        for (int i = 0; i < n; i++) {
            b[i] = new int[] {i, i + 1000};
        }
        return b;
    }

    @Test
    void eachEpochVisitsEveryBlockOnce() {
        BatchSource s = new BatchSource(blocks(12), 4, 9);
        Set<Integer> firstEpoch = new HashSet<>();
        for (int step = 0; step < 3; step++) {
            for (int[] row : s.batch(step)) {
                firstEpoch.add(row[0]);
            }
        }
        assertEquals(12, firstEpoch.size());
        assertEquals(1.0, s.epoch(3));
    }

    @Test
    void theBatchOfAStepDependsOnlyOnSeedAndStep() {
        BatchSource a = new BatchSource(blocks(10), 3, 5);
        BatchSource b = new BatchSource(blocks(10), 3, 5);
        // b jumps straight to step 7 (as a resumed run does); a walks there
        for (int step = 0; step < 7; step++) {
            a.batch(step);
        }
        assertArrayEquals(a.batch(7), b.batch(7));
        assertNotEquals(java.util.Arrays.deepToString(new BatchSource(blocks(10), 3, 6).batch(7)),
                java.util.Arrays.deepToString(b.batch(7)));
    }

    @Test
    void batchesCrossEpochBoundaries() {
        BatchSource s = new BatchSource(blocks(5), 3, 1);
        // 5 steps of 3 = 15 samples = exactly 3 epochs of 5 blocks, although no batch lines up with an epoch
        int[] seen = new int[5];
        for (int step = 0; step < 5; step++) {
            int[][] rows = s.batch(step);
            assertEquals(3, rows.length);
            for (int[] row : rows) {
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
