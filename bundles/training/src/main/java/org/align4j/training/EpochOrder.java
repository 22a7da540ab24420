package org.align4j.training;

import java.util.SplittableRandom;

/**
 * Which examples a step trains on: each epoch visits all {@code n} examples once, in a permutation drawn from
 * {@code (seed, epoch)}; step {@code k} takes the next {@code batch} of that stream. A step's examples are a pure
 * function of (seed, step), so a resumed run reads exactly what an uninterrupted one would.
 */
public final class EpochOrder {
    private final int n;
    private final long seed;
    private int[] order;
    private long orderEpoch = -1;

    public EpochOrder(int n, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("no examples to train on");
        }
        this.n = n;
        this.seed = seed;
    }

    /** The indices of step {@code step}'s {@code batch} examples. */
    public int[] batch(long step, int batch) {
        int[] out = new int[batch];
        long pos = step * batch;
        for (int i = 0; i < batch; i++, pos++) {
            out[i] = permutation(pos / n)[(int) (pos % n)];
        }
        return out;
    }

    /** The epoch reached after {@code steps} steps of {@code batch} examples. */
    public double epoch(long steps, int batch) {
        return (double) steps * batch / n;
    }

    private int[] permutation(long epoch) {
        if (epoch != orderEpoch) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch);
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            order = p;
            orderEpoch = epoch;
        }
        return order;
    }
}
