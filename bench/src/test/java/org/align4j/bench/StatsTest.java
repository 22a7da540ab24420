package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3.0, Stats.median(new double[] {5, 1, 3}));
        assertEquals(2.5, Stats.median(new double[] {4, 1, 3, 2}));
        assertEquals(7.0, Stats.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> Stats.median(new double[0]));
    }

    @Test
    void medianLeavesItsInputAlone() {
        double[] xs = {3, 1, 2};
        Stats.median(xs);
        assertArrayEquals(new double[] {3, 1, 2}, xs);
    }

    @Test
    void summaryGivesSpreadAsPercentOfTheMedian() {
        Stats.Summary s = Stats.summarize(new double[] {1000, 950, 1040});
        assertEquals(1000, s.median());
        assertEquals(950, s.min());
        assertEquals(1040, s.max());
        assertEquals(9.0, s.spreadPercent(), 1e-12); // (1040 - 950) / 1000
        assertEquals(3, s.count());
    }

    @Test
    void harmonicMeanIsTotalTokensOverTotalSeconds() {
        // two steps of 2,048 tokens at 1,024 and 2,048 tokens/s: 2 s + 1 s for 4,096 tokens
        assertEquals(4096.0 / 3.0, Stats.harmonicMean(new double[] {1024, 2048}), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Stats.harmonicMean(new double[] {1, 0}));
    }

    @Test
    void wallRateCountsFromTheEndOfTheLastWarmupStep() {
        double[] ends = {5.0, 6.0, 6.5, 7.5, 8.0}; // step 1 ended at 5 s, ...
        // warmup 2: steps 3..5 (three of them) between 6.0 s and 8.0 s, 100 tokens each
        assertEquals(150.0, Stats.wallRate(ends, 2, 100), 1e-12);
        // warmup 0: no end before step 1, so steps 2..5 (four) between 5.0 s and 8.0 s
        assertEquals(400.0 / 3, Stats.wallRate(ends, 0, 100), 1e-12);
        assertEquals(400.0 / 3, Stats.wallRate(ends, 1, 100), 1e-12);
        assertTrue(Double.isNaN(Stats.wallRate(new double[] {1, 1}, 1, 100)));
        assertTrue(Double.isNaN(Stats.wallRate(ends, 5, 100)));
    }

    @Test
    void skipLeavesOutWarmupSteps() {
        assertArrayEquals(new double[] {3, 4}, Stats.skip(new double[] {1, 2, 3, 4}, 2));
        assertArrayEquals(new double[] {1, 2}, Stats.skip(new double[] {1, 2}, 0));
        assertThrows(IllegalArgumentException.class, () -> Stats.skip(new double[] {1, 2}, 2));
    }

    @Test
    void medianOfKnownIgnoresMissingFigures() {
        assertEquals(200, Stats.medianOfKnown(new double[] {-1, 100, 300}));
        assertEquals(-1, Stats.medianOfKnown(new double[] {-1, -1}));
    }
}
