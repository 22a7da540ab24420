package org.align4j.trainer.ppo;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Where each step of a completion ends, as a token index: the steps are the completion's lines (as reward models read
 * them, split at {@code '\n'}), and step {@code s} ends at the token that completes its newline, or for a last line
 * without one, at the completion's last token. Dense process rewards are paid there.
 */
final class StepEnds {
    private StepEnds() {
    }

    /**
     * @param tokens the completion's tokens (without end-of-text)
     * @param decode the tokenizer's decoding of a token prefix
     * @return the last token of each line, in order (an empty completion has none)
     */
    static int[] of(int[] tokens, Function<int[], String> decode) {
        IntStream.Builder ends = IntStream.builder(); // one token may end several lines ("\n\n")
        int seen = 0; // newlines in the decoded prefix so far
        for (int k = 0; k < tokens.length; k++) {
            String text = decode.apply(Arrays.copyOf(tokens, k + 1));
            int nl = 0;
            for (int i = 0; i < text.length(); i++) {
                nl += text.charAt(i) == '\n' ? 1 : 0;
            }
            for (; seen < nl; seen++) {
                ends.add(k);
            }
        }
        if (tokens.length > 0) {
            String all = decode.apply(tokens);
            if (!all.endsWith("\n")) {
                ends.add(tokens.length - 1); // the last line has no newline
            }
        }
        return ends.build().toArray();
    }
}
