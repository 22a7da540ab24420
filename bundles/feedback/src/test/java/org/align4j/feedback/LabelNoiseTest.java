package org.align4j.feedback;

import static org.align4j.api.loss.StepLabel.CORRECT;
import static org.align4j.api.loss.StepLabel.INCORRECT;
import static org.align4j.api.loss.StepLabel.NEUTRAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.task.Verdict;
import org.junit.jupiter.api.Test;

/**
 * Noise rates within binomial bounds (five standard deviations: a false alarm about once in 1.7 million runs), the
 * shape of each kind of noise, and reproducibility: the same seed gives the same files, and a prompt's noise does not
 * depend on the prompts before it.
 */
class LabelNoiseTest {
    static final int N = 20_000;

    static void assertRate(double p, long count, long trials, String what) {
        double mean = p * trials;
        double sd = Math.sqrt(trials * p * (1 - p));
        System.out.printf("%s: %d of %d (expected %.0f +- %.0f)%n", what, count, trials, mean, sd);
        assertTrue(Math.abs(count - mean) <= 5 * sd + 1e-9, what + ": " + count + " of " + trials + ", expected "
                + mean + " +- 5 * " + sd);
    }

    @Test
    void pairFlipsHappenAtTheirRate() {
        LabelNoise noise = new LabelNoise(0.1, 0, 0, 0);
        SplittableRandom r = LabelNoise.stream(7, 0, LabelNoise.PAIRS);
        long flips = 0;
        for (int i = 0; i < N; i++) {
            flips += noise.flipPair(r) ? 1 : 0;
        }
        assertRate(0.1, flips, N, "pair flips");
    }

    @Test
    void rankSwapsExchangeTwoAdjacentEntriesAtTheirRateAndUniformPlaces() {
        LabelNoise noise = new LabelNoise(0, 0.1, 0, 0);
        SplittableRandom r = LabelNoise.stream(7, 0, LabelNoise.RANKS);
        long swaps = 0;
        long[] at = new long[3];
        for (int i = 0; i < N; i++) {
            int[] ranking = {2, 0, 3, 1};
            boolean swapped = noise.swapRanks(ranking, r);
            List<Integer> changed = new ArrayList<>();
            int[] clean = {2, 0, 3, 1};
            for (int j = 0; j < 4; j++) {
                if (ranking[j] != clean[j]) {
                    changed.add(j);
                }
            }
            if (swapped) {
                swaps++;
                assertEquals(2, changed.size());
                assertEquals(changed.get(0) + 1, changed.get(1), "adjacent");
                assertEquals(clean[changed.get(0)], ranking[changed.get(1)]);
                assertEquals(clean[changed.get(1)], ranking[changed.get(0)]);
                at[changed.get(0)]++;
            } else {
                assertTrue(changed.isEmpty());
            }
        }
        assertRate(0.1, swaps, N, "rank swaps");
        for (int j = 0; j < 3; j++) {
            assertRate(1.0 / 3, at[j], swaps, "swaps at position " + j);
        }
    }

    @Test
    void ratingJitterMovesByOneWithinOneToFiveAtItsRate() {
        LabelNoise noise = new LabelNoise(0, 0, 0.1, 0);
        SplittableRandom r = LabelNoise.stream(7, 0, LabelNoise.RATINGS);
        long moved = 0;
        for (int i = 0; i < N; i++) {
            int clean = 1 + i % 5;
            int noisy = noise.jitter(clean, r);
            assertTrue(noisy >= 1 && noisy <= 5);
            if (noisy != clean) {
                moved++;
                assertEquals(1, Math.abs(noisy - clean));
            }
        }
        assertRate(0.1, moved, N, "rating jitters");
        LabelNoise always = new LabelNoise(0, 0, 1, 0);
        for (int i = 0; i < 100; i++) {
            assertEquals(2, always.jitter(1, r), "1 can only go up");
            assertEquals(4, always.jitter(5, r), "5 can only go down");
        }
    }

    @Test
    void stepFlipsSwapCorrectAndIncorrectAtTheirRateAndLeaveNeutralAlone() {
        LabelNoise noise = new LabelNoise(0, 0, 0, 0.1);
        SplittableRandom r = LabelNoise.stream(7, 0, LabelNoise.STEPS);
        long flips = 0;
        long judged = 0;
        for (int i = 0; i < N / 4; i++) {
            int[] clean = {CORRECT, NEUTRAL, INCORRECT, CORRECT, NEUTRAL};
            int[] labels = clean.clone();
            int counted = noise.flipSteps(labels, r);
            int seen = 0;
            for (int j = 0; j < labels.length; j++) {
                if (clean[j] == NEUTRAL) {
                    assertEquals(NEUTRAL, labels[j]);
                } else if (labels[j] != clean[j]) {
                    seen++;
                    assertEquals(clean[j] == CORRECT ? INCORRECT : CORRECT, labels[j]);
                }
            }
            assertEquals(seen, counted);
            flips += seen;
            judged += 3;
        }
        assertRate(0.1, flips, judged, "step flips");
    }

    @Test
    void ratesAreCheckedAndZeroChangesNothing() {
        assertThrows(IllegalArgumentException.class, () -> new LabelNoise(1.5, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new LabelNoise(0, Double.NaN, 0, 0));
        FeedbackSet clean = build(LabelNoise.NONE, 3, 0, 12);
        assertEquals(0.0, clean.metrics().get("feedback_noisy_pairs") + clean.metrics().get("feedback_noisy_lists")
                + clean.metrics().get("feedback_noisy_ratings") + clean.metrics().get("feedback_noisy_steps"));
    }

    /** Prompts {@code from..to-1}, each with four made-up completions of different quality. */
    static FeedbackSet build(LabelNoise noise, long seed, int from, int to) {
        FeedbackSet set = new FeedbackSet(2.0, noise, seed);
        for (int p = from; p < to; p++) {
            List<String> texts = new ArrayList<>();
            List<Verdict> verdicts = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                int[] labels = new int[3];
                for (int j = 0; j < 3; j++) {
                    labels[j] = (p + k + j) % 3 == 0 ? INCORRECT : (p * k + j) % 4 == 0 ? NEUTRAL : CORRECT;
                }
                boolean right = (p + k) % 2 == 0;
                texts.add("1. s" + k + "\n2. t" + p + "\n3. u\nA: " + (right ? "7" : "8"));
                verdicts.add(new Verdict(right, labels, right ? "7" : "8", "7", ""));
            }
            set.add(p, "Q: " + p + "?\n", texts, verdicts);
        }
        return set;
    }

    @Test
    void theStageCountsItsNoiseAtTheConfiguredRates() {
        FeedbackSet set = build(new LabelNoise(0.1, 0.2, 0.3, 0.4), 5, 0, 1000);
        java.util.Map<String, Double> m = set.metrics();
        assertRate(0.1, m.get("feedback_noisy_pairs").longValue(), m.get("feedback_pairs").longValue(), "pairs");
        assertRate(0.2, m.get("feedback_noisy_lists").longValue(), m.get("feedback_lists").longValue(), "lists");
        assertRate(0.3, m.get("feedback_noisy_ratings").longValue(), m.get("feedback_ratings").longValue(),
                "ratings");
        long judged = 0; // correct or incorrect labels, the ones step noise may flip
        for (String line : set.process) {
            String labels = line.substring(line.indexOf("\"labels\":"));
            judged += labels.split("true", -1).length - 1 + labels.split("false", -1).length - 1;
        }
        // flipping keeps the count of non-neutral labels
        assertRate(0.4, m.get("feedback_noisy_steps").longValue(), judged, "steps");
    }

    @Test
    void theSameSeedGivesTheSameFilesAndEachPromptsNoiseIsItsOwn() {
        LabelNoise noise = new LabelNoise(0.5, 0.5, 0.5, 0.5);
        FeedbackSet a = build(noise, 11, 0, 40);
        FeedbackSet b = build(noise, 11, 0, 40);
        FeedbackSet c = build(noise, 12, 0, 40);
        for (String f : FeedbackSet.FILES) {
            assertEquals(a.lines(f), b.lines(f), f);
        }
        assertNotEquals(a.pointwise, c.pointwise, "another seed, other noise");
        // prompt 17 alone gets the noise it gets among the others
        FeedbackSet alone = build(noise, 11, 17, 18);
        for (String f : FeedbackSet.FILES) {
            List<String> of17 = new ArrayList<>();
            for (String line : a.lines(f)) {
                if (line.startsWith("{\"prompt\":\"Q: 17?\\n\"")) {
                    of17.add(line);
                }
            }
            assertEquals(of17, alone.lines(f), f);
        }
    }
}
