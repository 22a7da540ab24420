package org.align4j.api.data;

/**
 * A right-padded batch of token sequences, {@link #rows()} {@code B} by {@link #length()} {@code T}, as flat
 * row-major arrays ready to feed to TensorFlow: element {@code [b, t]} is at {@code b * T + t}.
 *
 * <p>A preference batch ({@link #pairs()}) stacks the chosen sequences in rows {@code 0..B/2-1} and the rejected
 * ones in rows {@code B/2..B-1}, row {@code i} and row {@code B/2 + i} being one pair, all with the same {@code T}.
 */
public final class TokenBatch {
    private final int rows;
    private final int length;
    private final int[] tokens;
    private final int[] attentionMask;
    private final float[] lossMask;
    private final int[] lengths;
    private final int[] examples;
    private final int truncated;
    private final int dropped;
    private final boolean pairs;

    public TokenBatch(int rows, int length, int[] tokens, int[] attentionMask, float[] lossMask, int[] lengths,
            int[] examples, int truncated, int dropped, boolean pairs) {
        long n = (long) rows * length;
        if (rows < 0 || length < 0 || tokens.length != n || attentionMask.length != n || lossMask.length != n
                || lengths.length != rows || examples.length != rows || (pairs && rows % 2 != 0)) {
            throw new IllegalArgumentException("inconsistent batch shapes: B=" + rows + ", T=" + length);
        }
        this.rows = rows;
        this.length = length;
        this.tokens = tokens.clone();
        this.attentionMask = attentionMask.clone();
        this.lossMask = lossMask.clone();
        this.lengths = lengths.clone();
        this.examples = examples.clone();
        this.truncated = truncated;
        this.dropped = dropped;
        this.pairs = pairs;
    }

    /** {@code B}: the number of rows (for pairs, twice the number of pairs). */
    public int rows() {
        return rows;
    }

    /** {@code T}: the length of every row, the longest sequence in the batch. */
    public int length() {
        return length;
    }

    /** {@code [B, T]} token ids; padding holds the pad id. A copy. */
    public int[] tokens() {
        return tokens.clone();
    }

    /** {@code [B, T]} 1 for a real token, 0 for padding. A copy. */
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** {@code [B, T]} 1 for a token that counts in the loss, 0 otherwise (always 0 on padding). A copy. */
    public float[] lossMask() {
        return lossMask.clone();
    }

    /** {@code [B]} the number of real tokens in each row. A copy. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** {@code [B]} for each row, the index of its sequence (for pairs: of its pair) in the input list. A copy. */
    public int[] examples() {
        return examples.clone();
    }

    /** How many rows lost prompt tokens from their left to fit the maximum length. */
    public int truncated() {
        return truncated;
    }

    /** How many input sequences (for pairs: pairs) were left out because they could not fit. */
    public int dropped() {
        return dropped;
    }

    /** Whether this is a preference batch: chosen rows first, then the rejected rows in the same order. */
    public boolean pairs() {
        return pairs;
    }

    public int token(int row, int t) {
        return tokens[row * length + t];
    }

    public int attention(int row, int t) {
        return attentionMask[row * length + t];
    }

    public float loss(int row, int t) {
        return lossMask[row * length + t];
    }
}
