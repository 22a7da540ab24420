package org.align4j.trainer.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RewardMetricsTest {

    @Test
    void kendallTauCountsConcordantAndDiscordantPairs() {
        int[] ranks = {0, 1, 2, 3}; // completion 0 is the best
        assertEquals(1.0, RewardMetrics.kendallTau(new double[] {4, 3, 2, 1}, ranks), 1e-12);
        assertEquals(-1.0, RewardMetrics.kendallTau(new double[] {1, 2, 3, 4}, ranks), 1e-12);
        // one swapped neighbour: 5 concordant, 1 discordant of 6 pairs
        assertEquals(4.0 / 6, RewardMetrics.kendallTau(new double[] {3, 4, 2, 1}, ranks), 1e-12);
        // a tie in the scores: tau-b = (C - D) / sqrt((6 - 0) * (6 - 1)) with C = 5, D = 0
        assertEquals(5 / Math.sqrt(30), RewardMetrics.kendallTau(new double[] {4, 4, 2, 1}, ranks), 1e-12);
    }

    @Test
    void ndcgIsOneForThePerfectOrderAndLowerOtherwise() {
        int[] ranks = {0, 1, 2};
        assertEquals(1.0, RewardMetrics.ndcg(new double[] {3, 2, 1}, ranks), 1e-12);
        // gains 2^(3 - rank) - 1 = 7, 3, 1; order by score 2, 1, 0 gives 1 + 3/log2(3) + 7/2
        double dcg = 1 + 3 / (Math.log(3) / Math.log(2)) + 7.0 / 2;
        double ideal = 7 + 3 / (Math.log(3) / Math.log(2)) + 1.0 / 2;
        assertEquals(dcg / ideal, RewardMetrics.ndcg(new double[] {1, 2, 3}, ranks), 1e-12);
    }

    @Test
    void pearsonRmseAndF1() {
        assertEquals(1.0, RewardMetrics.pearson(new double[] {1, 2, 3}, new double[] {2, 4, 6}), 1e-12);
        assertEquals(-1.0, RewardMetrics.pearson(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
        assertEquals(0.0, RewardMetrics.pearson(new double[] {1, 1, 1}, new double[] {3, 2, 1}), 1e-12);
        assertEquals(Math.sqrt((1 + 4) / 2.0), RewardMetrics.rmse(new double[] {1, 2}, new double[] {2, 4}), 1e-12);
        assertEquals(2.0 * 3 / (2 * 3 + 1 + 2), RewardMetrics.f1(3, 1, 2), 1e-12);
        assertEquals(0.0, RewardMetrics.f1(0, 0, 0), 1e-12);
    }
}
