package org.align4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.generate.Completion.FinishReason;
import org.align4j.api.generate.GenerationSettings;
import org.junit.jupiter.api.Test;

/** The token choice and the per-row stop logic on constructed logits: no TensorFlow. */
class SamplingTest {

    /** softmax(x / temperature) in double, written out here. */
    static double[] softmax(float[] x, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v / temperature);
        }
        double[] p = new double[x.length];
        double z = 0;
        for (int i = 0; i < x.length; i++) {
            p[i] = Math.exp(x[i] / temperature - max);
            z += p[i];
        }
        for (int i = 0; i < x.length; i++) {
            p[i] /= z;
        }
        return p;
    }

    /** Frequencies of {@code draws} choices. */
    static double[] frequencies(float[] logits, GenerationSettings s, long seed, int draws) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) {
            f[Sampling.choose(logits, new int[0], 0, s, r)] += 1.0 / draws;
        }
        return f;
    }

    @Test
    void greedyTakesTheLargestLogitAndTheLowestIdOnATie() {
        GenerationSettings greedy = GenerationSettings.greedy(4);
        assertEquals(2, Sampling.choose(new float[] {0.5f, -1f, 3f, 2.9f}, new int[0], 0, greedy,
                new SplittableRandom(1)));
        assertEquals(1, Sampling.choose(new float[] {0f, 3f, 3f, -2f}, new int[0], 0, greedy,
                new SplittableRandom(1)));
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        float[] logits = {1.0f, 0.2f, -0.5f, 2.0f};
        GenerationSettings s = GenerationSettings.builder().temperature(0.7).build();
        double[] want = softmax(logits, 0.7);
        double[] got = frequencies(logits, s, 11, 40_000);
        for (int i = 0; i < logits.length; i++) {
            assertEquals(want[i], got[i], 0.01, "token " + i + ": " + Arrays.toString(got));
        }
    }

    @Test
    void topKKeepsTheKLargestAndRenormalises() {
        float[] logits = {1.0f, 3.0f, 0.5f, 2.5f, -1f};
        GenerationSettings s = GenerationSettings.builder().temperature(1).topK(2).build();
        double[] got = frequencies(logits, s, 3, 40_000);
        double z = Math.exp(3.0) + Math.exp(2.5);
        assertEquals(Math.exp(3.0) / z, got[1], 0.01);
        assertEquals(Math.exp(2.5) / z, got[3], 0.01);
        assertEquals(0, got[0] + got[2] + got[4]);
        assertEquals(2.5, Sampling.kthLargest(new double[] {1, 3, 0.5, 2.5, -1}, 2));
        SplittableRandom r = new SplittableRandom(5);
        for (int n = 0; n < 200; n++) {
            double[] x = r.doubles(1 + r.nextInt(40)).toArray();
            int k = 1 + r.nextInt(x.length);
            double[] sorted = x.clone();
            Arrays.sort(sorted);
            assertEquals(sorted[x.length - k], Sampling.kthLargest(x, k));
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15),
            (float) Math.log(0.05)};
        double[] kept = Sampling.probabilities(toDouble(logits), 1, 0, 0.7);
        assertTrue(kept[0] > 0 && kept[1] > 0 && kept[2] == 0 && kept[3] == 0, Arrays.toString(kept));
        kept = Sampling.probabilities(toDouble(logits), 1, 0, 0.5);
        assertTrue(kept[0] > 0 && kept[1] == 0 && kept[2] == 0 && kept[3] == 0, Arrays.toString(kept));
        kept = Sampling.probabilities(toDouble(logits), 1, 0, 0.96);
        assertTrue(kept[0] > 0 && kept[1] > 0 && kept[2] > 0 && kept[3] > 0, Arrays.toString(kept));

        GenerationSettings s = GenerationSettings.builder().topP(0.7).build();
        double[] got = frequencies(logits, s, 9, 40_000);
        assertEquals(0.5 / 0.8, got[0], 0.01);
        assertEquals(0.3 / 0.8, got[1], 0.01);
        assertEquals(0, got[2] + got[3]);
    }

    @Test
    void topKThenTopP() {
        float[] logits = {(float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2),
            (float) Math.log(0.1)};
        // top-k 3 leaves 0.4, 0.3, 0.2 (sum 0.9): top-p 0.7 of that needs 0.63, so 0.4 + 0.3 stay
        double[] kept = Sampling.probabilities(toDouble(logits), 1, 3, 0.7);
        assertTrue(kept[0] > 0 && kept[1] > 0 && kept[2] == 0 && kept[3] == 0, Arrays.toString(kept));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        double[] x = {2, -1, 1.5, 0.5};
        Sampling.penalize(x, new int[] {0, 1, 99}, 2, 2.0);
        assertArrayEquals(new double[] {1, -2, 1.5, 0.5}, x);
        GenerationSettings s = GenerationSettings.builder().temperature(0).repetitionPenalty(2).build();
        assertEquals(2, Sampling.choose(new float[] {2, -1, 1.5f, 0.5f}, new int[] {0}, 1, s,
                new SplittableRandom(0)));
        assertEquals(0, Sampling.choose(new float[] {2, -1, 1.5f, 0.5f}, new int[] {0}, 0, s,
                new SplittableRandom(0)));
    }

    @Test
    void theSameSeedGivesTheSameTokensAndAnotherSeedOthers() {
        float[] logits = new float[50];
        SplittableRandom init = new SplittableRandom(1);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) init.nextGaussian();
        }
        GenerationSettings s = GenerationSettings.builder().temperature(1).build();
        int[] a = draws(logits, s, Sampling.random(7, 0, 0));
        int[] b = draws(logits, s, Sampling.random(7, 0, 0));
        int[] c = draws(logits, s, Sampling.random(8, 0, 0));
        int[] d = draws(logits, s, Sampling.random(7, 0, 1));
        int[] e = draws(logits, s, Sampling.random(7, 1, 0));
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
        assertNotEquals(Arrays.toString(a), Arrays.toString(d));
        assertNotEquals(Arrays.toString(a), Arrays.toString(e));
        assertNotEquals(Arrays.toString(d), Arrays.toString(e));
    }

    private static int[] draws(float[] logits, GenerationSettings s, SplittableRandom r) {
        int[] out = new int[40];
        for (int i = 0; i < out.length; i++) {
            out[i] = Sampling.choose(logits, new int[0], 0, s, r);
        }
        return out;
    }

    /** Logits that make token {@code t} the clear favourite. */
    static float[] favour(int t, int v) {
        float[] x = new float[v];
        x[t] = 10;
        return x;
    }

    static GenerationSessionImpl.Row row(GenerationSettings s, int[] prompt, int context) {
        return new GenerationSessionImpl.Row(0, 0, prompt, s, context, 8);
    }

    @Test
    void aStopTokenEndsTheRowAndIsNotPartOfIt() {
        GenerationSettings s = GenerationSettings.builder().temperature(0).stopTokens(5, 6).maxNewTokens(10).build();
        GenerationSessionImpl.Row r = row(s, new int[] {1, 2}, 100);
        GenerationSessionImpl.step(r, favour(3, 8), s);
        GenerationSessionImpl.step(r, favour(4, 8), s);
        assertNull(r.finish);
        GenerationSessionImpl.step(r, favour(6, 8), s);
        assertEquals(FinishReason.STOP_TOKEN, r.finish);
        assertArrayEquals(new int[] {3, 4}, r.completion().tokens());
        assertEquals(2, r.completion().logProbs().length);
    }

    @Test
    void aStopStringEndsTheRowAfterTheTokenThatCompletesIt() {
        // ids decode to letters: 0 -> "a", 1 -> "b", ...
        GenerationSettings s = GenerationSettings.builder().temperature(0).maxNewTokens(10)
                .stopStrings(List.of("cd", "zz")).decoder(ids -> {
                    StringBuilder b = new StringBuilder();
                    for (int id : ids) {
                        b.append((char) ('a' + id));
                    }
                    return b.toString();
                }).build();
        GenerationSessionImpl.Row r = row(s, new int[] {2, 3}, 100); // the prompt's "cd" does not count
        GenerationSessionImpl.step(r, favour(1, 8), s);
        GenerationSessionImpl.step(r, favour(2, 8), s);
        assertNull(r.finish);
        GenerationSessionImpl.step(r, favour(3, 8), s);
        assertEquals(FinishReason.STOP_STRING, r.finish);
        assertArrayEquals(new int[] {1, 2, 3}, r.completion().tokens());
        assertThrows(IllegalArgumentException.class,
                () -> GenerationSettings.builder().stopStrings(List.of("x")).build());
    }

    @Test
    void maxTokensAndTheContextEndARow() {
        GenerationSettings s = GenerationSettings.builder().temperature(0).maxNewTokens(2).build();
        GenerationSessionImpl.Row r = row(s, new int[] {1}, 100);
        GenerationSessionImpl.step(r, favour(3, 8), s);
        GenerationSessionImpl.step(r, favour(3, 8), s);
        assertEquals(FinishReason.MAX_TOKENS, r.finish);
        GenerationSettings longer = GenerationSettings.builder().temperature(0).maxNewTokens(50).build();
        GenerationSessionImpl.Row near = row(longer, new int[] {1, 2, 3}, 5); // context 5: room for 2 tokens
        GenerationSessionImpl.step(near, favour(3, 8), longer);
        assertNull(near.finish);
        GenerationSessionImpl.step(near, favour(3, 8), longer);
        assertEquals(FinishReason.CONTEXT, near.finish);
        assertEquals(2, near.completion().tokens().length);
    }

    @Test
    void theSamplesOfAPromptDrawFromStreamsOfTheirOwn() {
        GenerationSettings s = GenerationSettings.builder().temperature(1).samples(4).maxNewTokens(20).seed(3).build();
        float[] flat = new float[8]; // uniform over 8 tokens
        Set<String> distinct = new HashSet<>();
        for (int sample = 0; sample < 4; sample++) {
            GenerationSessionImpl.Row r = new GenerationSessionImpl.Row(0, sample, new int[] {1}, s, 100, 8);
            GenerationSessionImpl.Row again = new GenerationSessionImpl.Row(0, sample, new int[] {1}, s, 100, 8);
            while (r.finish == null) {
                GenerationSessionImpl.step(r, flat, s);
                GenerationSessionImpl.step(again, flat, s);
            }
            assertArrayEquals(r.completion().tokens(), again.completion().tokens());
            distinct.add(Arrays.toString(r.completion().tokens()));
        }
        assertEquals(4, distinct.size(), distinct.toString());
    }

    @Test
    void logProbIsTheLogSoftmaxOfTheRawLogits() {
        float[] logits = {1.0f, 0.2f, -0.5f, 2.0f};
        double[] p = softmax(logits, 1);
        for (int i = 0; i < logits.length; i++) {
            assertEquals(Math.log(p[i]), Sampling.logProb(logits, i), 1e-12);
        }
    }

    @Test
    void settingsOutsideTheirRangeAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GenerationSettings.builder().topP(1.5));
        assertEquals("generation setting top_p = 1.5: expected a number in (0, 1] (1 keeps every token)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().temperature(-1));
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().topK(-1));
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().repetitionPenalty(0));
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().samples(0));
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().maxNewTokens(0));
    }

    private static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }
}
