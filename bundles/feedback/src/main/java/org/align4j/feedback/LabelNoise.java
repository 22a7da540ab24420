package org.align4j.feedback;

import java.util.SplittableRandom;

import org.align4j.api.loss.StepLabel;

/**
 * Annotator noise, each kind with its own rate in [0, 1] ({@code noise: { pairs, ranks, ratings, steps }}):
 * <ul>
 * <li>{@code pairs}: each pair is flipped (chosen and rejected swapped; the margin keeps its size: the annotator was
 * as sure, and wrong) with this probability;</li>
 * <li>{@code ranks}: each list has two adjacent ranks swapped (a position drawn uniformly among the K - 1) with this
 * probability;</li>
 * <li>{@code ratings}: each rating is moved by one, up or down with equal odds, with this probability; a move past 1
 * or 5 goes the other way, so a noisy rating always differs from the clean one;</li>
 * <li>{@code steps}: each correct or incorrect step label is flipped to the other with this probability; neutral
 * labels are left alone.</li>
 * </ul>
 * Every decision draws from the random stream it is handed ({@link #stream}), one per prompt and kind, so the noise
 * of a prompt does not depend on how many prompts came before it or on the other kinds' rates.
 */
final class LabelNoise {
    static final LabelNoise NONE = new LabelNoise(0, 0, 0, 0);

    /** Stream kinds. */
    static final int PAIRS = 1;
    static final int RANKS = 2;
    static final int RATINGS = 3;
    static final int STEPS = 4;

    final double pairs;
    final double ranks;
    final double ratings;
    final double steps;

    LabelNoise(double pairs, double ranks, double ratings, double steps) {
        this.pairs = check("pairs", pairs);
        this.ranks = check("ranks", ranks);
        this.ratings = check("ratings", ratings);
        this.steps = check("steps", steps);
    }

    private static double check(String name, double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("noise." + name + " = " + rate + ": expected a rate in [0, 1]");
        }
        return rate;
    }

    /** The random stream of {@code kind} for prompt {@code prompt} of a run seeded {@code seed}. */
    static SplittableRandom stream(long seed, int prompt, int kind) {
        return new SplittableRandom(mix(mix(seed ^ 0x6A09E667F3BCC909L, prompt), kind));
    }

    /** SplitMix64's finaliser over {@code a} and {@code b}. */
    static long mix(long a, long b) {
        long z = a + 0x9E3779B97F4A7C15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Whether to flip this pair. */
    boolean flipPair(SplittableRandom r) {
        return r.nextDouble() < pairs;
    }

    /** Swaps two adjacent entries of {@code ranking} in place with probability {@code ranks}; true if it did. */
    boolean swapRanks(int[] ranking, SplittableRandom r) {
        if (ranking.length < 2 || !(r.nextDouble() < ranks)) {
            return false;
        }
        int i = r.nextInt(ranking.length - 1);
        int t = ranking[i];
        ranking[i] = ranking[i + 1];
        ranking[i + 1] = t;
        return true;
    }

    /** The rating, moved by one within 1..5 with probability {@code ratings}. */
    int jitter(int rating, SplittableRandom r) {
        if (!(r.nextDouble() < ratings)) {
            return rating;
        }
        int moved = rating + (r.nextBoolean() ? 1 : -1);
        return moved < 1 || moved > 5 ? 2 * rating - moved : moved;
    }

    /** Flips each correct/incorrect label in place with probability {@code steps}; returns how many it flipped. */
    int flipSteps(int[] labels, SplittableRandom r) {
        int flipped = 0;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] == StepLabel.NEUTRAL) {
                continue;
            }
            if (r.nextDouble() < steps) {
                labels[i] = labels[i] == StepLabel.CORRECT ? StepLabel.INCORRECT : StepLabel.CORRECT;
                flipped++;
            }
        }
        return flipped;
    }

    @Override
    public String toString() {
        return "noise{pairs=" + pairs + ", ranks=" + ranks + ", ratings=" + ratings + ", steps=" + steps + "}";
    }
}
