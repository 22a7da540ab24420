package org.align4j.trainer.pretrain;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Training blocks in a seeded order. The packed rows are joined back into one token stream; epoch {@code e} cuts it
 * into blocks starting at an offset drawn from {@code (seed, e)} (0 in the first epoch) and visits them in a
 * permutation drawn from {@code (seed, e)}. Shifting the cut each epoch shows every document at many positions of
 * the context, not at the one the first packing gave it, so the model does not learn positions by heart.
 *
 * <p>The batch of a step is a pure function of (seed, step): a resumed run reads exactly the batches an uninterrupted
 * run would have read, and the data position is just the step.
 */
final class BatchSource {
    private final int[] stream;
    private final int length; // L: tokens per block (a row holds L + 1: inputs and shifted targets)
    private final int perEpoch;
    private final int batch;
    private final long seed;
    private int[] order;
    private long orderEpoch = -1;
    private int offset;

    /** @param rows packed rows {@code [N, L + 1]}, consecutive rows overlapping by one token */
    BatchSource(int[][] rows, int batch, long seed) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("no training block: the corpus is shorter than one context");
        }
        this.length = rows[0].length - 1;
        int[] s = new int[rows.length * length + 1];
        System.arraycopy(rows[0], 0, s, 0, length + 1);
        for (int r = 1; r < rows.length; r++) {
            System.arraycopy(rows[r], 1, s, r * length + 1, length);
        }
        this.stream = s;
        // with any offset below L, this many whole rows fit: off + (perEpoch - 1) * L + L <= stream.length - 1
        this.perEpoch = rows.length > 1 ? (s.length - 1 - (length - 1)) / length : 1;
        this.batch = batch;
        this.seed = seed;
    }

    int blockCount() {
        return perEpoch;
    }

    /** How many samples (blocks) have been consumed before {@code step}. */
    long position(long step) {
        return step * batch;
    }

    double epoch(long step) {
        return (double) position(step) / perEpoch;
    }

    /** The rows of {@code step}'s batch: {@code [batch, L + 1]}. */
    int[][] batch(long step) {
        int[][] out = new int[batch][];
        long pos = position(step);
        for (int i = 0; i < batch; i++, pos++) {
            long epoch = pos / perEpoch;
            int within = (int) (pos % perEpoch);
            int start = epochOffset(epoch) + permutation(epoch)[within] * length;
            out[i] = Arrays.copyOfRange(stream, start, start + length + 1);
        }
        return out;
    }

    private int epochOffset(long epoch) {
        permutation(epoch);
        return offset;
    }

    private int[] permutation(long epoch) {
        if (epoch != orderEpoch) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch);
            offset = epoch == 0 || perEpoch == 1 ? 0 : r.nextInt(length);
            int[] p = new int[perEpoch];
            for (int i = 0; i < p.length; i++) {
                p[i] = i;
            }
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
