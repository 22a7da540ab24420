package org.align4j.training;

import java.util.Arrays;

import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * Where a sampled answer ends, as the stages that sample from a policy (exact match, feedback, best-of-N) read it: at
 * the end-of-text token, or the end-of-turn marker where the tokenizer has one.
 *
 * @since 1.1
 */
public final class StopTokens {
    private StopTokens() {
    }

    /** End of text, and {@code <|end|>} where the tokenizer has it. */
    public static int[] of(Tokenizer tokenizer) {
        java.util.OptionalInt end = tokenizer.specialTokens().id(SpecialTokens.END);
        return end.isPresent() && end.getAsInt() != tokenizer.eosId()
                ? new int[] {tokenizer.eosId(), end.getAsInt()} : new int[] {tokenizer.eosId()};
    }

    /** {@code ids} without the stop tokens at its end. */
    public static int[] strip(int[] ids, int[] stops) {
        int n = ids.length;
        while (n > 0 && contains(stops, ids[n - 1])) {
            n--;
        }
        return Arrays.copyOf(ids, n);
    }

    private static boolean contains(int[] a, int x) {
        for (int v : a) {
            if (v == x) {
                return true;
            }
        }
        return false;
    }
}
