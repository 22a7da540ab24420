package org.align4j.trainer.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.Content;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.junit.jupiter.api.Test;

/** What a reward model reads: the last-token layout, and the layout of a model scored by its steps. */
class SequencesTest {
    static final Tokenizer TOKENIZER;

    static {
        List<String> corpus = new ArrayList<>();
        for (int a = 0; a < 30; a++) {
            corpus.add("Q: " + a + "+" + (a * 7 % 13) + "=?\n1. " + a + "+" + (a * 7 % 13) + "=" + (a + a * 7 % 13));
        }
        TOKENIZER = new BpeTokenizerFactory().train(corpus, Settings.of("test", Map.of("vocab", 300)), n -> { });
    }

    private static int[] join(int[]... parts) {
        int[] out = new int[0];
        for (int[] p : parts) {
            out = Sequences.concat(out, p);
        }
        return out;
    }

    @Test
    void aLastTokenModelReadsEosPromptCompletionEos() {
        TokenSequence s = new Sequences(TOKENIZER, ChatTemplate.DEFAULT).of("Q: 3+4=?\n", "1. 3+4=7\nA: 7");
        int eos = TOKENIZER.eosId();
        assertArrayEquals(join(new int[] {eos}, TOKENIZER.encode("Q: 3+4=?\n"), TOKENIZER.encode("1. 3+4=7\nA: 7"),
                new int[] {eos}), s.ids());
    }

    @Test
    void aStepCreditModelReadsEachLineEndedByTheSeparator() {
        int nl = ProcessMethod.Steps.separator(TOKENIZER, true);
        assertArrayEquals(TOKENIZER.encode("\n"), new int[] {nl});
        Sequences steps = new Sequences(TOKENIZER, ChatTemplate.DEFAULT, nl);
        TokenSequence s = steps.of("Q: 3+4=?\n", "1. 3+4=7\nA: 7\n"); // a trailing newline starts no step
        int[] prompt = join(new int[] {TOKENIZER.eosId()}, TOKENIZER.encode("Q: 3+4=?\n"));
        assertArrayEquals(join(prompt, TOKENIZER.encode("1. 3+4=7"), new int[] {nl}, TOKENIZER.encode("A: 7"),
                new int[] {nl}), s.ids());
        for (int i = 0; i < s.length(); i++) {
            assertEquals(i >= prompt.length, s.inLoss(i), "position " + i + " is the completion's");
        }
        assertEquals(List.of(""), org.align4j.api.reward.PromptCompletion.steps(""), "no lines at all: one empty step");
        assertEquals(List.of("a", "", "b"), org.align4j.api.reward.PromptCompletion.steps("a\n\nb\n"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> steps.of(
                Content.messages(List.of(new ChatMessage(ChatMessage.USER, "3+4?"))), Content.text("7")));
        assertEquals("score: step-credit reads prompt-completion text, whose lines are the steps; this example is"
                + " conversational", e.getMessage());
    }
}
