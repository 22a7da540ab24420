package org.align4j.training;

import org.align4j.api.data.TokenBatch;

/**
 * A right-padded batch shifted for next-token prediction, as the policy-training methods feed it: inputs are
 * positions {@code 0..T-2}, targets the token after each, and the mask says which targets are in the loss (the
 * completion's tokens). Flat row-major {@code [rows, length]} arrays.
 *
 * @since 1.1
 */
public final class NextTokens {
    private final int rows;
    private final int length;
    private final int[] inputs;
    private final int[] targets;
    private final float[] mask;
    private final long attended;
    private final double inLoss;

    private NextTokens(int rows, int length, int[] inputs, int[] targets, float[] mask, long attended,
            double inLoss) {
        this.rows = rows;
        this.length = length;
        this.inputs = inputs;
        this.targets = targets;
        this.mask = mask;
        this.attended = attended;
        this.inLoss = inLoss;
    }

    /** {@code b}'s rows shifted by one: {@code length = b.length() - 1}. */
    public static NextTokens of(TokenBatch b) {
        int rows = b.rows();
        int t = b.length() - 1;
        int[] in = new int[rows * t];
        int[] out = new int[rows * t];
        float[] m = new float[rows * t];
        long attended = 0;
        double inLoss = 0;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < t; j++) {
                in[r * t + j] = b.token(r, j);
                out[r * t + j] = b.token(r, j + 1);
                m[r * t + j] = b.loss(r, j + 1);
                attended += b.attention(r, j + 1);
                inLoss += m[r * t + j];
            }
        }
        return new NextTokens(rows, t, in, out, m, attended, inLoss);
    }

    public int rows() {
        return rows;
    }

    /** Positions per row. */
    public int length() {
        return length;
    }

    /** {@code [rows, length]} token ids the model reads. */
    public int[] inputs() {
        return inputs;
    }

    /** {@code [rows, length]} the token after each input. */
    public int[] targets() {
        return targets;
    }

    /** {@code [rows, length]} 1 where the target is in the loss. */
    public float[] mask() {
        return mask;
    }

    /** Targets that are real tokens (not padding): what a step processes. */
    public long attended() {
        return attended;
    }

    /** Targets in the loss. */
    public double inLoss() {
        return inLoss;
    }
}
