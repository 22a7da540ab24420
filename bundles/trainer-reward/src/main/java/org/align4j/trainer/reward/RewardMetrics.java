package org.align4j.trainer.reward;

/**
 * The held-out metrics of each family, computed in double from the reward model's scores: pairwise accuracy and
 * margin, Kendall's tau and NDCG of a ranking, RMSE and Pearson's r of ratings, and the F1 of finding incorrect
 * steps.
 */
final class RewardMetrics {
    private RewardMetrics() {
    }

    /**
     * Kendall's tau-b between predicted scores and true ranks (rank 0 is best, so a good model scores low ranks
     * high): (concordant - discordant) / sqrt((n0 - ties in ranks) (n0 - ties in scores)); 0 when undefined.
     */
    static double kendallTau(double[] scores, int[] ranks) {
        int n = scores.length;
        long concordant = 0;
        long discordant = 0;
        long tiesRank = 0;
        long tiesScore = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                pairs++;
                int r = Integer.compare(ranks[j], ranks[i]); // > 0: i ranked better than j
                int s = Double.compare(scores[i], scores[j]); // > 0: i scored higher than j
                if (r == 0) {
                    tiesRank++;
                }
                if (s == 0) {
                    tiesScore++;
                }
                if (r != 0 && s != 0) {
                    if (r == s) {
                        concordant++;
                    } else {
                        discordant++;
                    }
                }
            }
        }
        double denominator = Math.sqrt((double) (pairs - tiesRank) * (pairs - tiesScore));
        return denominator == 0 ? 0 : (concordant - discordant) / denominator;
    }

    /**
     * NDCG of the order the scores give, with gains {@code 2^(K - rank) - 1} (rank 0 best, K the list's length) and
     * the usual {@code 1/log2(position + 2)} discount; 1 for a perfect order.
     */
    static double ndcg(double[] scores, int[] ranks) {
        int k = scores.length;
        Integer[] byScore = new Integer[k];
        Integer[] byRank = new Integer[k];
        for (int i = 0; i < k; i++) {
            byScore[i] = i;
            byRank[i] = i;
        }
        java.util.Arrays.sort(byScore, (a, b) -> Double.compare(scores[b], scores[a]));
        java.util.Arrays.sort(byRank, (a, b) -> Integer.compare(ranks[a], ranks[b]));
        double dcg = 0;
        double ideal = 0;
        for (int p = 0; p < k; p++) {
            double discount = 1 / (Math.log(p + 2) / Math.log(2));
            dcg += (Math.pow(2, k - ranks[byScore[p]]) - 1) * discount;
            ideal += (Math.pow(2, k - ranks[byRank[p]]) - 1) * discount;
        }
        return ideal == 0 ? 0 : dcg / ideal;
    }

    static double rmse(double[] predicted, double[] actual) {
        double sum = 0;
        for (int i = 0; i < predicted.length; i++) {
            sum += (predicted[i] - actual[i]) * (predicted[i] - actual[i]);
        }
        return predicted.length == 0 ? 0 : Math.sqrt(sum / predicted.length);
    }

    /** Pearson's correlation; 0 when either side is constant. */
    static double pearson(double[] x, double[] y) {
        int n = x.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i] / n;
            my += y[i] / n;
        }
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.sqrt(sxx * syy);
    }

    /** F1 from counts of true positives, false positives and false negatives; 0 when there is nothing. */
    static double f1(long tp, long fp, long fn) {
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }
}
