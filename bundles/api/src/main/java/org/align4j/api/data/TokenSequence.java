package org.align4j.api.data;

import java.util.Objects;

/**
 * One tokenised example before collation: its token ids and, per token, whether the token counts in the loss (e.g.
 * the completion's tokens only). Immutable; never empty.
 */
public final class TokenSequence {
    private final int[] ids;
    private final boolean[] lossMask;

    public TokenSequence(int[] ids, boolean[] lossMask) {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(lossMask, "lossMask");
        if (ids.length == 0) {
            throw new IllegalArgumentException("a token sequence needs at least one token");
        }
        if (ids.length != lossMask.length) {
            throw new IllegalArgumentException(ids.length + " token ids but " + lossMask.length + " loss-mask entries");
        }
        this.ids = ids.clone();
        this.lossMask = lossMask.clone();
    }

    /** {@code prompt} (not in the loss) followed by {@code completion} (in the loss). */
    public static TokenSequence of(int[] prompt, int[] completion) {
        int[] ids = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        boolean[] mask = new boolean[ids.length];
        java.util.Arrays.fill(mask, prompt.length, ids.length, true);
        return new TokenSequence(ids, mask);
    }

    public int length() {
        return ids.length;
    }

    public int id(int i) {
        return ids[i];
    }

    public boolean inLoss(int i) {
        return lossMask[i];
    }

    /** The ids (a copy). */
    public int[] ids() {
        return ids.clone();
    }

    /** The loss mask (a copy). */
    public boolean[] lossMask() {
        return lossMask.clone();
    }
}
