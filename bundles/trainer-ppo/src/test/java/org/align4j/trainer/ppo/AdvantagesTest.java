package org.align4j.trainer.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.align4j.api.model.TensorData;
import org.junit.jupiter.api.Test;

/**
 * {@link Advantages} (KL estimators, reward assembly, GAE, whitening, adaptive KL) against double-precision references
 * written here in another form than the code, and {@link RolloutBuffer}, which carries their results into a
 * checkpoint.
 */
class AdvantagesTest {
    private static final double REL = 1e-8;

    /** |actual - expected| within REL of |expected| (and of 1e-300 for an expected 0). */
    private static void close(double expected, double actual, String what) {
        double tol = REL * Math.abs(expected) + 1e-300;
        assertTrue(Math.abs(actual - expected) <= tol, () -> what + ": expected " + expected + ", got " + actual);
    }

    private static void close(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            close(expected[k], actual[k], what + "[" + k + "]");
        }
    }

    /**
     * exp(r) - 1 - r: for small |r| as its Taylor series r^2/2! + r^3/3! + ... (no cancellation), otherwise directly.
     */
    private static double k3Reference(double r) {
        if (Math.abs(r) < 1e-2) {
            double sum = 0;
            double term = r; // r^j / j!
            for (int j = 2; j <= 14; j++) {
                term = term * r / j;
                sum += term;
            }
            return sum;
        }
        return Math.exp(r) - 1 - r;
    }

    // ---------------------------------------------------------------- KL

    private static float[][] klInputs() {
        Random rnd = new Random(11);
        int n = 200;
        float[] p = new float[n + 8];
        float[] q = new float[n + 8];
        for (int i = 0; i < n; i++) {
            p[i] = (float) (-20 * rnd.nextDouble());
            q[i] = (float) (-20 * rnd.nextDouble());
        }
        // equal inputs: the estimate is 0
        p[n] = -1.2345f;
        q[n] = -1.2345f;
        p[n + 1] = 0f;
        q[n + 1] = 0f;
        // large gaps both ways
        p[n + 2] = -0.01f;
        q[n + 2] = -30f;
        p[n + 3] = -30f;
        q[n + 3] = -0.01f;
        p[n + 4] = -1e-4f;
        q[n + 4] = -45f;
        // small gaps (one float ulp near -1, and 1e-3)
        p[n + 5] = -1f;
        q[n + 5] = Math.nextDown(-1f);
        p[n + 6] = -2.000f;
        q[n + 6] = -2.001f;
        p[n + 7] = -2.001f;
        q[n + 7] = -2.000f;
        return new float[][] {p, q};
    }

    @Test
    void k1IsTheLogRatioOfPolicyToReference() {
        float[][] in = klInputs();
        float[] p = in[0];
        float[] q = in[1];
        double[] kl = Advantages.kl(p, q, PpoSettings.Estimator.K1);
        assertEquals(p.length, kl.length);
        for (int i = 0; i < p.length; i++) {
            double expected = (double) p[i] - (double) q[i];
            close(expected, kl[i], "k1[" + i + "] p=" + p[i] + " ref=" + q[i]);
        }
        assertEquals(0.0, kl[p.length - 8], 0.0, "equal inputs give k1 = 0");
        assertTrue(kl[p.length - 6] > 29, "policy far above reference: k1 is large and positive");
        assertTrue(kl[p.length - 5] < -29, "policy far below reference: k1 is large and negative");
    }

    @Test
    void k3IsNonNegativeAndMatchesExpMinusOneMinusR() {
        float[][] in = klInputs();
        float[] p = in[0];
        float[] q = in[1];
        double[] kl = Advantages.kl(p, q, PpoSettings.Estimator.K3);
        assertEquals(p.length, kl.length);
        for (int i = 0; i < p.length; i++) {
            double r = (double) q[i] - (double) p[i];
            close(k3Reference(r), kl[i], "k3[" + i + "] p=" + p[i] + " ref=" + q[i]);
            assertTrue(kl[i] >= 0, "k3[" + i + "] = " + kl[i] + " is negative");
        }
        assertEquals(0.0, kl[p.length - 8], 0.0, "equal inputs give k3 = 0");
        assertEquals(0.0, kl[p.length - 7], 0.0, "equal inputs give k3 = 0");
        // r = -29.99: e^r - 1 - r = 28.99 + e^-29.99
        close(-1 + 29.99 + Math.exp(-29.99), kl[p.length - 6], "k3 with r = -29.99");
        assertTrue(kl[p.length - 5] > 1e12, "r = +29.99 gives e^r - 1 - r ~ 1e13, got " + kl[p.length - 5]);
        assertTrue(kl[p.length - 3] > 0, "a gap of one float ulp still gives a positive k3");
    }

    @Test
    void klOfNoTokensIsEmpty() {
        assertEquals(0, Advantages.kl(new float[0], new float[0], PpoSettings.Estimator.K1).length);
        assertEquals(0, Advantages.kl(new float[0], new float[0], PpoSettings.Estimator.K3).length);
    }

    // ---------------------------------------------------------------- rewards

    /**
     * The reward of each token gathered per position: what the KL costs there, the outcome if it is the last token,
     * and every step that ends there.
     */
    private static double[] rewardsReference(double[] kl, double beta, double score, double outcome, int[] ends,
            float[] stepScores, double steps, double baseline) {
        int n = kl.length;
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            double stepPart = 0;
            for (int s = 0; s < ends.length; s++) {
                if (ends[s] == k) {
                    stepPart += steps * ((double) stepScores[s] - baseline);
                }
            }
            double outcomePart = k == n - 1 ? outcome * score : 0;
            out[k] = outcomePart + stepPart - beta * kl[k];
        }
        return out;
    }

    @Test
    void sparseRewardIsKlPenaltyEverywhereAndScoreAtTheEnd() {
        double[] kl = {0.3, -0.1, 0.0, 2.5, 0.7};
        double beta = 0.05;
        double score = 1.75;
        double[] r = Advantages.rewards(kl, beta, score, 1.0, new int[0], new float[0], 0.5, 1.0);
        close(rewardsReference(kl, beta, score, 1.0, new int[0], new float[0], 0.5, 1.0), r, "sparse");
        // spelt out: nothing but the penalty before the last token
        close(-0.05 * 0.3, r[0], "r[0]");
        close(0.05 * 0.1, r[1], "r[1]");
        assertEquals(0.0, r[2], 0.0, "r[2]");
        close(1.75 - 0.05 * 0.7, r[4], "r[4]");
    }

    @Test
    void denseStepRewardsAddAtStepEnds() {
        Random rnd = new Random(5);
        int n = 9;
        double[] kl = new double[n];
        for (int k = 0; k < n; k++) {
            kl[k] = rnd.nextGaussian();
        }
        int[] ends = {1, 4, 4, 6, 8}; // two steps end at token 4; the last step ends at the last token
        float[] ss = {0.9f, 0.2f, 1.0f, 0.4f, 0.75f};
        double beta = 0.1;
        double score = 0.6;
        double outcome = 2.0;
        double steps = 0.5;
        double baseline = 0.25;
        double[] r = Advantages.rewards(kl, beta, score, outcome, ends, ss, steps, baseline);
        close(rewardsReference(kl, beta, score, outcome, ends, ss, steps, baseline), r, "dense");
        // spelt out for the shared end and the last token
        close(-beta * kl[4] + 0.5 * (0.2 - 0.25) + 0.5 * (1.0 - 0.25), r[4], "two steps ending at token 4");
        close(-beta * kl[8] + 2.0 * 0.6 + 0.5 * (0.75 - 0.25), r[8], "a step at the last token adds to the score");
        close(-beta * kl[0], r[0], "no step ends at token 0");
        close(-beta * kl[7], r[7], "no step ends at token 7");
    }

    @Test
    void denseOutcomeWeightScalesOnlyTheScore() {
        double[] kl = {0.2, 0.4, 0.1};
        int[] ends = {0};
        float[] ss = {2f};
        double[] r = Advantages.rewards(kl, 0.5, 3.0, 0.0, ends, ss, 1.5, 1.0);
        close(rewardsReference(kl, 0.5, 3.0, 0.0, ends, ss, 1.5, 1.0), r, "outcome weight 0");
        close(-0.5 * 0.1, r[2], "outcome weight 0 drops the score");
        close(-0.5 * 0.2 + 1.5 * (2.0 - 1.0), r[0], "step reward at token 0");
    }

    @Test
    void emptyCompletionHasNoRewards() {
        assertEquals(0, Advantages.rewards(new double[0], 0.1, 5.0, 1.0, new int[0], new float[0], 0.5, 1).length);
    }

    @Test
    void singleTokenGetsPenaltyScoreAndItsStep() {
        double[] r = Advantages.rewards(new double[] {0.8}, 0.25, -1.0, 1.0, new int[] {0}, new float[] {3f}, 2.0,
                1.0);
        assertEquals(1, r.length);
        close(-0.25 * 0.8 - 1.0 + 2.0 * (3.0 - 1.0), r[0], "one token");
    }

    // ---------------------------------------------------------------- GAE

    /** A_k = sum_{l >= 0} (gamma lambda)^l delta_{k+l}, delta_k = r_k + gamma V_{k+1} - V_k, V_n = 0. */
    private static double[] gaeReference(double[] r, float[] v, double gamma, double lambda) {
        int n = r.length;
        double[] delta = new double[n];
        for (int k = 0; k < n; k++) {
            double vNext = k + 1 == n ? 0.0 : (double) v[k + 1];
            delta[k] = r[k] + gamma * vNext - (double) v[k];
        }
        double[] a = new double[n];
        for (int k = 0; k < n; k++) {
            double sum = 0;
            for (int l = 0; k + l < n; l++) {
                sum += Math.pow(gamma * lambda, l) * delta[k + l];
            }
            a[k] = sum;
        }
        return a;
    }

    private static double[] randomRewards(Random rnd, int n) {
        double[] r = new double[n];
        for (int k = 0; k < n; k++) {
            r[k] = rnd.nextGaussian() * 0.3;
        }
        r[n - 1] += 2.0;
        return r;
    }

    private static float[] randomValues(Random rnd, int n) {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = (float) (rnd.nextGaussian() * 0.8 + 0.5);
        }
        return v;
    }

    @Test
    void gaeMatchesTheExplicitForwardSum() {
        Random rnd = new Random(23);
        double[][] params = {{1.0, 0.95}, {0.99, 0.95}, {0.9, 0.5}, {0.5, 1.0}, {1.0, 1.0}, {0.97, 0.0}, {0.0, 0.7}};
        for (int n : new int[] {1, 2, 7, 33}) {
            double[] r = randomRewards(rnd, n);
            float[] v = randomValues(rnd, n);
            for (double[] gl : params) {
                String what = "n=" + n + " gamma=" + gl[0] + " lambda=" + gl[1];
                double[][] g = Advantages.gae(r, v, gl[0], gl[1]);
                double[] a = gaeReference(r, v, gl[0], gl[1]);
                close(a, g[0], what + " advantages");
                double[] ret = new double[n];
                for (int k = 0; k < n; k++) {
                    ret[k] = a[k] + v[k];
                }
                close(ret, g[1], what + " returns");
            }
        }
    }

    @Test
    void gaeWithGammaAndLambdaOneIsRewardToGoMinusValue() {
        Random rnd = new Random(29);
        int n = 12;
        double[] r = randomRewards(rnd, n);
        float[] v = randomValues(rnd, n);
        double[][] g = Advantages.gae(r, v, 1.0, 1.0);
        for (int k = 0; k < n; k++) {
            double toGo = 0;
            for (int j = k; j < n; j++) {
                toGo += r[j];
            }
            close(toGo - v[k], g[0][k], "A[" + k + "]");
            close(toGo, g[1][k], "return[" + k + "] is the reward to go");
        }
    }

    @Test
    void gaeWithLambdaZeroIsTheTdError() {
        Random rnd = new Random(31);
        int n = 10;
        double[] r = randomRewards(rnd, n);
        float[] v = randomValues(rnd, n);
        double gamma = 0.9;
        double[][] g = Advantages.gae(r, v, gamma, 0.0);
        for (int k = 0; k < n; k++) {
            double delta = r[k] + (k + 1 < n ? gamma * v[k + 1] : 0.0) - v[k];
            close(delta, g[0][k], "A[" + k + "]");
            close(r[k] + (k + 1 < n ? gamma * v[k + 1] : 0.0), g[1][k], "return[" + k + "] is the one-step target");
        }
    }

    @Test
    void gaeOfNoTokensIsEmpty() {
        double[][] g = Advantages.gae(new double[0], new float[0], 1.0, 0.95);
        assertEquals(0, g[0].length);
        assertEquals(0, g[1].length);
    }

    // ---------------------------------------------------------------- whitening

    private static List<double[]> copyRows(List<double[]> rows) {
        List<double[]> out = new ArrayList<>();
        for (double[] r : rows) {
            out.add(r.clone());
        }
        return out;
    }

    /** {mean, unbiased variance} by Welford's one-pass update (the code uses two passes). */
    private static double[] welford(List<double[]> rows) {
        long n = 0;
        double mean = 0;
        double m2 = 0;
        for (double[] row : rows) {
            for (double x : row) {
                n++;
                double d = x - mean;
                mean += d / n;
                m2 += d * (x - mean);
            }
        }
        return new double[] {mean, n > 1 ? m2 / (n - 1) : 0, n};
    }

    @Test
    void whiteningUsesMeanAndUnbiasedVarianceOverAllTokens() {
        Random rnd = new Random(37);
        List<double[]> rows = new ArrayList<>();
        for (int len : new int[] {5, 0, 1, 13, 8}) { // rows of different lengths, one empty
            double[] row = new double[len];
            for (int k = 0; k < len; k++) {
                row[k] = 3.0 + 2.5 * rnd.nextGaussian();
            }
            rows.add(row);
        }
        List<double[]> original = copyRows(rows);
        double[] stats = welford(original);
        double mean = stats[0];
        double var = stats[1];
        assertEquals(27, (long) stats[2]);

        Advantages.whiten(rows);

        assertEquals(original.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(original.get(i).length, rows.get(i).length, "row " + i + " keeps its length");
            for (int k = 0; k < rows.get(i).length; k++) {
                double expected = (original.get(i)[k] - mean) / Math.sqrt(var + 1e-8);
                close(expected, rows.get(i)[k], "row " + i + " token " + k);
            }
        }
        double[] after = welford(rows);
        assertEquals(0.0, after[0], 1e-12, "whitened mean");
        // var / (var + 1e-8) with var ~ 6: 1 to within 2e-9
        assertEquals(1.0, after[1], 1e-8, "whitened unbiased variance");
    }

    @Test
    void whiteningUsesTheUnbiasedNotThePopulationVariance() {
        // two tokens 0 and 2: mean 1, unbiased variance 2 (population variance 1)
        List<double[]> rows = new ArrayList<>(List.of(new double[] {0.0}, new double[] {2.0}));
        Advantages.whiten(rows);
        close(-1 / Math.sqrt(2 + 1e-8), rows.get(0)[0], "first");
        close(1 / Math.sqrt(2 + 1e-8), rows.get(1)[0], "second");
    }

    @Test
    void whiteningOneTokenLeavesItMinusTheMean() {
        List<double[]> rows = new ArrayList<>(List.of(new double[0], new double[] {4.2}));
        Advantages.whiten(rows);
        assertEquals(0.0, rows.get(1)[0], 0.0, "one token less its own mean");
        assertTrue(Double.isFinite(rows.get(1)[0]));
        assertEquals(0, rows.get(0).length);
    }

    @Test
    void whiteningNoTokensChangesNothing() {
        List<double[]> rows = new ArrayList<>(List.of(new double[0], new double[0]));
        Advantages.whiten(rows);
        assertEquals(2, rows.size());
        assertEquals(0, rows.get(0).length + rows.get(1).length);
        Advantages.whiten(new ArrayList<>()); // no rows at all: no exception
    }

    @Test
    void whiteningConstantAdvantagesGivesZerosNotNaN() {
        List<double[]> rows = new ArrayList<>(List.of(new double[] {1.5, 1.5}, new double[] {1.5}));
        Advantages.whiten(rows);
        for (double[] row : rows) {
            for (double x : row) {
                assertEquals(0.0, x, 0.0);
            }
        }
    }

    // ---------------------------------------------------------------- adaptive KL

    private static double adaptReference(double beta, double kl, double target, int n, double horizon) {
        double e = kl / target - 1;
        if (e > 0.2) {
            e = 0.2;
        } else if (e < -0.2) {
            e = -0.2;
        }
        return beta * (1 + e * n / horizon);
    }

    @Test
    void adaptiveKlFollowsZieglersProportionalController() {
        double beta = 0.05;
        double target = 6;
        int n = 64;
        double horizon = 10000;
        // below target, inside the clip: e = 5.4 / 6 - 1 = -0.1
        double below = Advantages.adaptKl(beta, 5.4, target, n, horizon);
        close(adaptReference(beta, 5.4, target, n, horizon), below, "below");
        close(0.05 * (1 - 0.1 * 64 / 10000), below, "below, spelt out");
        assertTrue(below < beta);
        // above, inside the clip: e = 6.9 / 6 - 1 = 0.15
        double above = Advantages.adaptKl(beta, 6.9, target, n, horizon);
        close(adaptReference(beta, 6.9, target, n, horizon), above, "above");
        close(0.05 * (1 + 0.15 * 64 / 10000), above, "above, spelt out");
        assertTrue(above > beta);
        // far above: clipped to +0.2, the same for 60 and 6000
        double farAbove = Advantages.adaptKl(beta, 60, target, n, horizon);
        close(0.05 * (1 + 0.2 * 64 / 10000), farAbove, "far above is clipped at +0.2");
        close(farAbove, Advantages.adaptKl(beta, 6000, target, n, horizon), "far above, further");
        // far below (no KL at all): clipped to -0.2
        double farBelow = Advantages.adaptKl(beta, 0, target, n, horizon);
        close(0.05 * (1 - 0.2 * 64 / 10000), farBelow, "far below is clipped at -0.2");
        // at target nothing moves
        close(beta, Advantages.adaptKl(beta, 6, target, n, horizon), "at target");
        // a short horizon moves faster
        close(adaptReference(0.2, 9, 6, 16, 100), Advantages.adaptKl(0.2, 9, 6, 16, 100), "short horizon");
    }

    // ---------------------------------------------------------------- rollout buffer

    private static RolloutBuffer randomBuffer(int iteration, int rows, int width, long seed) {
        Random rnd = new Random(seed);
        RolloutBuffer b = new RolloutBuffer(iteration, rows, width);
        for (int i = 0; i < rows * width; i++) {
            b.inputs[i] = rnd.nextInt(1 << 24); // ids below 2^24 are exact in float32
            b.targets[i] = rnd.nextInt(1 << 24);
            b.mask[i] = rnd.nextBoolean() ? 1f : 0f;
            b.oldLogProbs[i] = (float) -rnd.nextDouble() * 10;
            b.oldValues[i] = (float) rnd.nextGaussian();
            b.advantages[i] = (float) rnd.nextGaussian();
            b.returns[i] = (float) rnd.nextGaussian();
        }
        b.inputs[0] = (1 << 24) - 1;
        b.targets[1] = 0;
        return b;
    }

    @Test
    void rolloutBufferSurvivesSaveAndLoad() {
        RolloutBuffer b = randomBuffer(17, 3, 5, 41);
        Map<String, TensorData> saved = b.save();
        // as a checkpoint gives them back: fresh arrays, not the buffer's own
        Map<String, TensorData> read = new HashMap<>();
        saved.forEach((k, t) -> read.put(k, new TensorData(t.shape(), t.values().clone())));
        for (String key : List.of("rollout.inputs", "rollout.targets", "rollout.mask", "rollout.old_logprobs",
                "rollout.old_values", "rollout.advantages", "rollout.returns")) {
            assertArrayEquals(new long[] {3, 5}, saved.get(key).shape(), key);
        }

        RolloutBuffer l = RolloutBuffer.load(read);
        assertEquals(17, l.iteration);
        assertEquals(3, l.rows);
        assertEquals(5, l.width);
        assertArrayEquals(b.inputs, l.inputs, "inputs");
        assertArrayEquals(b.targets, l.targets, "targets");
        assertArrayEquals(b.mask, l.mask, "mask");
        assertArrayEquals(b.oldLogProbs, l.oldLogProbs, "old log-probs");
        assertArrayEquals(b.oldValues, l.oldValues, "old values");
        assertArrayEquals(b.advantages, l.advantages, "advantages");
        assertArrayEquals(b.returns, l.returns, "returns");
        assertNotSame(b.inputs, l.inputs);
    }

    @Test
    void rolloutBufferLoadWithoutOneIsNull() {
        assertNull(RolloutBuffer.load(Map.of()));
        assertNull(RolloutBuffer.load(Map.of("policy.w", new TensorData(new long[] {1}, new float[] {1f}))));
    }

    @Test
    void rolloutBufferRowsSelectsRowsInTheGivenOrder() {
        RolloutBuffer b = randomBuffer(0, 4, 3, 43);
        int[] idx = {2, 0, 2, 3};
        float[] adv = b.rows(b.advantages, idx);
        int[] in = b.rows(b.inputs, idx);
        assertEquals(idx.length * 3, adv.length);
        assertEquals(idx.length * 3, in.length);
        for (int i = 0; i < idx.length; i++) {
            for (int t = 0; t < 3; t++) {
                assertEquals(b.advantages[idx[i] * 3 + t], adv[i * 3 + t], 0f, "advantages row " + i + " col " + t);
                assertEquals(b.inputs[idx[i] * 3 + t], in[i * 3 + t], "inputs row " + i + " col " + t);
            }
        }
        assertEquals(0, b.rows(b.mask, new int[0]).length);
    }
}
