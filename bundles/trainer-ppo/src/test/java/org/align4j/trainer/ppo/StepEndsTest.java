package org.align4j.trainer.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.junit.jupiter.api.Test;

/**
 * {@link StepEnds}: the token where each line of a completion ends, with a decoding written here (each id a fixed
 * string) and with the real BPE tokenizer; expected ends come from the character positions of the newlines in the
 * whole text, and the number of steps from {@link PromptCompletion#steps}, the split reward models use.
 */
class StepEndsTest {
    /** Token id to text: plain text, a newline, two newlines in one token, a newline followed by text. */
    private static final String[] PIECES = {"a", "bc", "\n", "\n\n", "\nX", "d", " = 4", ""};
    private static final int A = 0;
    private static final int BC = 1;
    private static final int NL = 2;
    private static final int NL2 = 3;
    private static final int NLX = 4;
    private static final int D = 5;
    private static final int EQ = 6;
    private static final int EMPTY = 7;

    private static final Function<int[], String> DECODE = ids -> {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            b.append(PIECES[id]);
        }
        return b.toString();
    };

    /**
     * The reference: the k-th line ends at the first token whose prefix reaches past the k-th newline character; a
     * last line without newline (and with text or as the only line) ends at the last token.
     */
    private static int[] reference(int[] tokens, Function<int[], String> decode) {
        if (tokens.length == 0) {
            return new int[0];
        }
        String text = decode.apply(tokens);
        int[] prefixLength = new int[tokens.length];
        for (int k = 0; k < tokens.length; k++) {
            prefixLength[k] = decode.apply(Arrays.copyOf(tokens, k + 1)).length();
        }
        List<Integer> ends = new ArrayList<>();
        for (int c = text.indexOf('\n'); c >= 0; c = text.indexOf('\n', c + 1)) {
            int k = 0;
            while (prefixLength[k] <= c) {
                k++;
            }
            ends.add(k);
        }
        if (text.isEmpty() || text.charAt(text.length() - 1) != '\n') {
            ends.add(tokens.length - 1);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void check(int[] expected, int... tokens) {
        String text = DECODE.apply(tokens);
        String shown = text.replace("\n", "\\n");
        assertArrayEquals(expected, reference(tokens, DECODE), "the reference itself on \"" + shown + "\"");
        int[] ends = StepEnds.of(tokens, DECODE);
        assertArrayEquals(expected, ends, "step ends of \"" + shown + "\"");
        if (tokens.length > 0) {
            assertEquals(PromptCompletion.steps(text).size(), ends.length,
                    "one end per step a reward model reads in \"" + shown + "\"");
        }
    }

    @Test
    void eachLineEndsAtTheTokenHoldingItsNewline() {
        check(new int[] {1, 3, 4}, A, NL, BC, NL, D); // "a\nbc\nd"
        check(new int[] {2, 5}, A, BC, NL, D, EQ, NL); // "abc\nd = 4\n"
    }

    @Test
    void lastLineWithoutNewlineEndsAtTheLastToken() {
        check(new int[] {1, 4}, A, NL, BC, D, EQ); // "a\nbcd = 4"
        check(new int[] {0}, A); // "a"
        check(new int[] {2}, A, BC, D); // "abcd"
    }

    @Test
    void completionEndingWithNewlineHasNoExtraStep() {
        check(new int[] {1, 3}, A, NL, BC, NL); // "a\nbc\n"
        check(new int[] {0}, NL); // "\n": one (empty) step
    }

    @Test
    void oneTokenWithTwoNewlinesEndsTwoLines() {
        check(new int[] {1, 1, 2}, A, NL2, D); // "a\n\nd": lines "a", "", "d"
        check(new int[] {1, 1}, A, NL2); // "a\n\n": lines "a", ""
        check(new int[] {0, 2, 2}, NL, A, NL2); // "\na\n\n"
    }

    @Test
    void newlineFollowedByTextInOneToken() {
        check(new int[] {1, 2}, A, NLX, D); // "a\nXd": "a" ends at the "\nX" token, "Xd" at the last
        check(new int[] {1, 1}, A, NLX); // "a\nX": both lines end at token 1
        check(new int[] {0, 1, 2}, NLX, NLX, D); // "\nX\nXd"
    }

    @Test
    void tokensDecodingToNothingAreSkipped() {
        check(new int[] {2, 4}, A, EMPTY, NL, D, EMPTY); // "a\nd": the last line ends at the last (empty) token
    }

    @Test
    void emptyCompletionHasNoSteps() {
        assertEquals(0, StepEnds.of(new int[0], DECODE).length);
    }

    /**
     * More lines than tokens. Disabled: {@code StepEnds.of} sizes its result {@code new int[tokens.length]}, so
     * "\n\n" (one token, two lines) and "\n\nd" (two tokens, three lines) throw ArrayIndexOutOfBoundsException. Enable
     * once StepEnds grows its array (or sizes it by the newlines of the whole text + 1).
     */
    @Test
    void moreLinesThanTokens() {
        check(new int[] {0, 0}, NL2); // "\n\n": lines "", ""
        check(new int[] {0, 0, 1}, NL2, D); // "\n\nd": lines "", "", "d"
        check(new int[] {0, 0, 1, 1, 2, 2}, NL2, NL2, NLX); // "\n\n\n\n\nX": six lines
        check(new int[] {0, 0, 1, 1, 2}, NL2, NL2, D); // "\n\n\n\nd": five lines
    }

    // ---------------------------------------------------------------- the real tokenizer

    private static Tokenizer bpe() {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            corpus.add("Q: " + i + "+" + (i % 4) + "=?\n" + i + "+" + (i % 4) + "=" + (i + i % 4) + "\n\nA: "
                    + (i + i % 4) + "\n");
        }
        return new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 300)), n -> { });
    }

    @Test
    void realTokenizerLinesEndWhereTheirNewlinesAre() {
        Tokenizer tok = bpe();
        String[] texts = {"3+1=4\nA: 4", "17+2=19\n\n9+9=18\nA: 18\n", "x\ny", "\n1\n\n", "no newline at all"};
        for (String text : texts) {
            int[] ids = tok.encode(text);
            assertEquals(text, tok.decode(ids), "the tokenizer round-trips");
            Function<int[], String> decode = tok::decode;
            int[] expected = reference(ids, decode);
            int[] ends = StepEnds.of(ids, decode);
            String shown = text.replace("\n", "\\n");
            assertArrayEquals(expected, ends, "step ends of \"" + shown + "\"");
            assertEquals(PromptCompletion.steps(text).size(), ends.length, "steps of \"" + shown + "\"");
            for (int s = 0; s < ends.length; s++) {
                assertTrue(ends[s] >= 0 && ends[s] < ids.length);
                assertTrue(s == 0 || ends[s] >= ends[s - 1], "ends are in order");
            }
            if (!text.endsWith("\n")) {
                assertEquals(ids.length - 1, ends[ends.length - 1], "the last line ends at the last token");
            }
        }
    }
}
