package org.align4j.trainer.pretrain;

import java.util.SplittableRandom;

/**
 * Training blocks in a seeded order: epoch {@code e} visits every block once in the permutation drawn from
 * {@code seed + e}. The batch of a step is a pure function of (seed, step), so a resumed run reads exactly the
 * batches an uninterrupted run would have read, and the data position is just the step.
 */
final class BatchSource {
    private final int[][] blocks; // [N, L + 1]
    private final int batch;
    private final long seed;
    private int[] order;
    private long orderEpoch = -1;

    BatchSource(int[][] blocks, int batch, long seed) {
        if (blocks.length == 0) {
            throw new IllegalArgumentException("no training block: the corpus is shorter than one context");
        }
        this.blocks = blocks;
        this.batch = batch;
        this.seed = seed;
    }

    int blockCount() {
        return blocks.length;
    }

    /** How many samples (blocks) have been consumed before {@code step}. */
    long position(long step) {
        return step * batch;
    }

    double epoch(long step) {
        return (double) position(step) / blocks.length;
    }

    /** The rows of {@code step}'s batch: {@code [batch, L + 1]}. */
    int[][] batch(long step) {
        int[][] out = new int[batch][];
        long pos = position(step);
        for (int i = 0; i < batch; i++, pos++) {
            long epoch = pos / blocks.length;
            int within = (int) (pos % blocks.length);
            out[i] = blocks[permutation(epoch)[within]];
        }
        return out;
    }

    private int[] permutation(long epoch) {
        if (epoch != orderEpoch) {
            int[] p = new int[blocks.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = i;
            }
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch);
            for (int i = p.length - 1; i > 0; i--) {
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
