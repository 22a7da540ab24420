package org.align4j.bench;

import java.util.Arrays;

/** Medians and spreads of a handful of figures. */
public final class Stats {
    private Stats() {
    }

    /** The median; the mean of the two middle values for an even count. */
    public static double median(double[] xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("median of no values");
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /** The median of the non-negative values; {@code -1} when there are none (e.g. nothing was measured). */
    public static double medianOfKnown(double[] xs) {
        double[] known = Arrays.stream(xs).filter(x -> x >= 0).toArray();
        return known.length == 0 ? -1 : median(known);
    }

    /** How many events per second a series of per-event rates amounts to: the harmonic mean. */
    public static double harmonicMean(double[] rates) {
        if (rates.length == 0) {
            throw new IllegalArgumentException("harmonic mean of no values");
        }
        double inv = 0;
        for (double r : rates) {
            if (!(r > 0)) {
                throw new IllegalArgumentException("harmonic mean: rates must be > 0, got " + r);
            }
            inv += 1 / r;
        }
        return rates.length / inv;
    }

    /** Median, min, max and the spread {@code (max - min) / median} in percent. */
    public record Summary(double median, double min, double max, double spreadPercent, int count) {
    }

    public static Summary summarize(double[] xs) {
        double med = median(xs);
        double min = Arrays.stream(xs).min().getAsDouble();
        double max = Arrays.stream(xs).max().getAsDouble();
        return new Summary(med, min, max, med == 0 ? Double.NaN : (max - min) / med * 100, xs.length);
    }

    /**
     * Tokens per second between the ends of steps, everything between them included (for align4j: publishing the
     * step's metrics, which the trainer's own figure leaves out): the steady steps {@code warmup .. n-1} over the
     * time from the end of step {@code warmup - 1} (of step 0 when {@code warmup == 0}, counting one step less) to
     * the end of the last; NaN when the clock did not advance.
     *
     * @param endSeconds when each step ended, in seconds on any clock
     */
    public static double wallRate(double[] endSeconds, int warmup, long tokensPerStep) {
        int n = endSeconds.length;
        int from = Math.max(0, warmup - 1);
        int steps = n - 1 - from;
        if (warmup >= n || steps < 1) {
            return Double.NaN;
        }
        double secs = endSeconds[n - 1] - endSeconds[from];
        return secs > 0 ? steps * (double) tokensPerStep / secs : Double.NaN;
    }

    /** {@code xs} without its first {@code skip} values. */
    public static double[] skip(double[] xs, int skip) {
        if (skip < 0 || skip >= xs.length) {
            throw new IllegalArgumentException("cannot skip " + skip + " of " + xs.length
                    + " steps: --warmup must be smaller than --steps");
        }
        return Arrays.copyOfRange(xs, skip, xs.length);
    }
}
