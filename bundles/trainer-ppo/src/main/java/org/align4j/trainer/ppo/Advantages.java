package org.align4j.trainer.ppo;

import java.util.List;

/**
 * The arithmetic of one PPO iteration on the host, per rollout over its generated tokens {@code k = 0 .. n-1} (the
 * completion and, when the policy stopped, its end-of-text token): the per-token KL to the reference, the rewards
 * (Ziegler et al. 2019; the seed text's sparse end-of-sequence reward, and dense step rewards), generalised advantage
 * estimation (Schulman et al. 2016) and whitening over the batch. Doubles throughout; the results are fed as float32.
 */
final class Advantages {
    private Advantages() {
    }

    /**
     * The KL estimate of each token from the policy's and the reference's log-probabilities of it, with
     * {@code r = logRef - logPolicy}: k1 {@code = -r} (unbiased, may be negative), k3 {@code = exp(r) - 1 - r}
     * (unbiased, never negative; Schulman 2020, "Approximating KL divergence").
     */
    static double[] kl(float[] logPolicy, float[] logRef, PpoSettings.Estimator estimator) {
        double[] out = new double[logPolicy.length];
        for (int k = 0; k < out.length; k++) {
            double r = (double) logRef[k] - logPolicy[k];
            out[k] = estimator == PpoSettings.Estimator.K1 ? -r : Math.expm1(r) - r;
        }
        return out;
    }

    /**
     * The reward of each token: {@code -beta * kl[k]} at every token, plus {@code outcome * score} at the last one,
     * plus, for each step {@code s} whose last token is {@code stepEnds[s]}, {@code steps * (stepScores[s] -
     * baseline)} there (dense process rewards; pass no steps for the sparse reward).
     *
     * @param stepEnds the index of each step's last token, in {@code [0, n)}; as many as {@code stepScores}
     */
    static double[] rewards(double[] kl, double beta, double score, double outcome, int[] stepEnds,
            float[] stepScores, double steps, double baseline) {
        int n = kl.length;
        double[] r = new double[n];
        for (int k = 0; k < n; k++) {
            r[k] = -beta * kl[k];
        }
        if (n > 0) {
            r[n - 1] += outcome * score;
            for (int s = 0; s < stepEnds.length; s++) {
                r[stepEnds[s]] += steps * (stepScores[s] - baseline);
            }
        }
        return r;
    }

    /**
     * Generalised advantage estimation over one rollout: {@code delta_k = r_k + gamma * V_{k+1} - V_k} with
     * {@code V_n = 0} (the episode ends after the last token), {@code A_k = delta_k + gamma * lambda * A_{k+1}}, and
     * the value targets {@code returns_k = A_k + V_k}.
     *
     * @return {@code {advantages, returns}}
     */
    static double[][] gae(double[] rewards, float[] values, double gamma, double lambda) {
        int n = rewards.length;
        double[] adv = new double[n];
        double[] ret = new double[n];
        double next = 0; // A_{k+1}
        for (int k = n - 1; k >= 0; k--) {
            double vNext = k + 1 < n ? values[k + 1] : 0;
            double delta = rewards[k] + gamma * vNext - values[k];
            next = delta + gamma * lambda * next;
            adv[k] = next;
            ret[k] = next + values[k];
        }
        return new double[][] {adv, ret};
    }

    /**
     * Whitens every rollout's advantages in place with the mean and the unbiased variance over all generated tokens
     * of the batch: {@code (a - mean) / sqrt(var + 1e-8)}. A batch of one token keeps its values less the mean.
     */
    static void whiten(List<double[]> advantages) {
        long count = 0;
        double sum = 0;
        for (double[] a : advantages) {
            for (double x : a) {
                sum += x;
                count++;
            }
        }
        if (count == 0) {
            return;
        }
        double mean = sum / count;
        double sq = 0;
        for (double[] a : advantages) {
            for (double x : a) {
                sq += (x - mean) * (x - mean);
            }
        }
        double var = count > 1 ? sq / (count - 1) : 0;
        double scale = 1 / Math.sqrt(var + 1e-8);
        for (double[] a : advantages) {
            for (int k = 0; k < a.length; k++) {
                a[k] = (a[k] - mean) * scale;
            }
        }
    }

    /**
     * The adaptive KL coefficient's update (Ziegler et al. 2019): with the rollouts' mean summed KL {@code kl}, the
     * error {@code clip(kl / target - 1, -0.2, 0.2)} moves {@code beta} by the factor
     * {@code 1 + error * rollouts / horizon}.
     */
    static double adaptKl(double beta, double kl, double target, int rollouts, double horizon) {
        double error = Math.max(-0.2, Math.min(0.2, kl / target - 1));
        return beta * (1 + error * rollouts / horizon);
    }
}
