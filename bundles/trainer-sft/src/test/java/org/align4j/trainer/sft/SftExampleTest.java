package org.align4j.trainer.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.Content;
import org.align4j.api.data.ConversationalExample;
import org.align4j.api.data.DataException;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SFT examples tokenised with a real byte-level BPE tokenizer trained here. Expected ids are spelt out piece by piece
 * from the documented formats ({@code <eos> prompt completion <eos>}; the default chat template's markers, "\n"
 * separators and contents), not through the chat template's code.
 */
class SftExampleTest {
    static final String FILE = "data/sft.jsonl";
    static Tokenizer tok;

    @BeforeAll
    static void train() {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            corpus.add("What is " + i + "+" + (i + 2) + "? It is " + (2 * i + 2) + ".\nBe brief. And 3+3? Six.");
        }
        tok = new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 320)), n -> { });
    }

    static ChatMessage m(String role, String content) {
        return new ChatMessage(role, content);
    }

    /** Expected ids and loss mask. */
    static final class Expected {
        final List<Integer> ids = new ArrayList<>();
        final List<Boolean> mask = new ArrayList<>();

        Expected add(int[] some, boolean inLoss) {
            for (int id : some) {
                ids.add(id);
                mask.add(inLoss);
            }
            return this;
        }

        Expected special(String role, boolean inLoss) {
            return add(new int[] {tok.specialTokens().require(role)}, inLoss);
        }

        /** One turn of the default template: marker, "\n", content, end marker, "\n". */
        Expected turn(ChatMessage msg, boolean learnt) {
            special(msg.role(), false);
            add(tok.encode("\n"), false);
            add(tok.encode(msg.content()), learnt);
            special(SpecialTokens.END, learnt);
            return add(tok.encode("\n"), false);
        }

        /** The generation prompt: the assistant marker and "\n". */
        Expected generationPrompt() {
            special(SpecialTokens.ASSISTANT, false);
            return add(tok.encode("\n"), false);
        }

        int[] ids() {
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }

        boolean[] mask() {
            boolean[] out = new boolean[mask.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = mask.get(i);
            }
            return out;
        }
    }

    /** The ids where {@code mask} is {@code want}. */
    static int[] where(int[] ids, boolean[] mask, boolean want) {
        return java.util.stream.IntStream.range(0, ids.length).filter(i -> mask[i] == want).map(i -> ids[i])
                .toArray();
    }

    @Test
    void promptCompletionTextIsEosPromptCompletionEosWithTheLossOnTheCompletionAndItsEos() {
        String prompt = "What is 3+5?";
        String completion = " It is 8.";
        SftExample e = SftExample.of(new PromptCompletionExample(FILE, 3, Content.text(prompt),
                Content.text(completion)), tok, ChatTemplate.DEFAULT);
        int eos = tok.eosId();
        Expected x = new Expected().add(new int[] {eos}, false).add(tok.encode(prompt), false)
                .add(tok.encode(completion), true).add(new int[] {eos}, true);
        assertArrayEquals(x.ids(), e.sequence.ids());
        assertArrayEquals(x.mask(), e.sequence.lossMask());

        int[] ids = e.sequence.ids();
        boolean[] mask = e.sequence.lossMask();
        assertEquals(eos, ids[0]);
        assertEquals(eos, ids[ids.length - 1]);
        assertTrue(mask[ids.length - 1], "the closing <eos> is learnt");
        // what the loss covers is exactly the completion (and <eos>); the rest is exactly the prompt
        int[] learnt = where(ids, mask, true);
        assertEquals(completion, tok.decode(Arrays.copyOf(learnt, learnt.length - 1)));
        int[] context = where(ids, mask, false);
        assertEquals(eos, context[0]);
        assertEquals(prompt, tok.decode(Arrays.copyOfRange(context, 1, context.length)));

        assertArrayEquals(Arrays.copyOf(ids, context.length), e.promptIds, "generation continues <eos> prompt");
        assertEquals(prompt, e.prompt);
        assertEquals(completion, e.reference);
        assertEquals(FILE + ":3", e.location);
    }

    @Test
    void aConversationIsTheTemplatesIdsWithTheLossOnEveryAssistantTurn() {
        List<ChatMessage> msgs = List.of(m("system", "Be brief."), m("user", "What is 2+4?"), m("assistant", "Six."),
                m("user", "And 3+3?"), m("assistant", "It is 6."));
        SftExample e = SftExample.of(new ConversationalExample(FILE, 5, msgs), tok, ChatTemplate.DEFAULT);
        Expected x = new Expected();
        for (ChatMessage msg : msgs) {
            x.turn(msg, msg.role().equals("assistant"));
        }
        assertArrayEquals(x.ids(), e.sequence.ids());
        assertArrayEquals(x.mask(), e.sequence.lossMask());
        // the learnt tokens are the two answers, each closed by <|end|>
        int end = tok.specialTokens().require(SpecialTokens.END);
        Expected learnt = new Expected().add(tok.encode("Six."), true).add(new int[] {end}, true)
                .add(tok.encode("It is 6."), true).add(new int[] {end}, true);
        assertArrayEquals(learnt.ids(), where(e.sequence.ids(), e.sequence.lossMask(), true));

        assertEquals("It is 6.", e.reference, "the last assistant turn is the answer");
        Expected prompt = new Expected();
        for (ChatMessage msg : msgs.subList(0, 4)) {
            prompt.turn(msg, false);
        }
        prompt.generationPrompt();
        assertArrayEquals(prompt.ids(), e.promptIds, "everything before the last answer, then <|assistant|>\\n");
        assertTrue(e.prompt.contains("And 3+3?"), e.prompt);
        assertFalse(e.prompt.contains("It is 6."), "the prompt text holds no answer: " + e.prompt);
    }

    @Test
    void aConversationalPromptsOwnAssistantTurnsAreContextNotTargets() {
        List<ChatMessage> prompt = List.of(m("system", "Be brief."), m("user", "What is 2+4?"),
                m("assistant", "Six."), m("user", "And 3+3?"));
        List<ChatMessage> completion = List.of(m("assistant", "It is 6."));
        SftExample e = SftExample.of(new PromptCompletionExample(FILE, 9, Content.messages(prompt),
                Content.messages(completion)), tok, ChatTemplate.DEFAULT);
        Expected x = new Expected();
        prompt.forEach(msg -> x.turn(msg, false));
        completion.forEach(msg -> x.turn(msg, true));
        assertArrayEquals(x.ids(), e.sequence.ids());
        assertArrayEquals(x.mask(), e.sequence.lossMask());

        Expected p = new Expected();
        prompt.forEach(msg -> p.turn(msg, false));
        p.generationPrompt();
        assertArrayEquals(p.ids(), e.promptIds);
        assertEquals("It is 6.", e.reference);
    }

    @Test
    void aCompletionOfSeveralTurnsLearnsEachAssistantTurnAndAnswersWithTheLast() {
        List<ChatMessage> prompt = List.of(m("user", "What is 2+4?"));
        List<ChatMessage> completion = List.of(m("assistant", "Six."), m("user", "And 3+3?"),
                m("assistant", "It is 6."));
        SftExample e = SftExample.of(new PromptCompletionExample(FILE, 2, Content.messages(prompt),
                Content.messages(completion)), tok, ChatTemplate.DEFAULT);
        Expected x = new Expected();
        prompt.forEach(msg -> x.turn(msg, false));
        completion.forEach(msg -> x.turn(msg, msg.role().equals("assistant")));
        assertArrayEquals(x.ids(), e.sequence.ids());
        assertArrayEquals(x.mask(), e.sequence.lossMask());
        assertEquals("It is 6.", e.reference);
    }

    @Test
    void aPairwiseExampleIsRejectedWithItsFileAndLine() {
        PairwiseExample p = new PairwiseExample("data/prefs.jsonl", 42, Content.text("What is 2+2?"),
                Content.text(" 4"), Content.text(" 5"), OptionalDouble.empty());
        DataException e = assertThrows(DataException.class, () -> SftExample.of(p, tok, ChatTemplate.DEFAULT));
        assertTrue(e.getMessage().startsWith("data/prefs.jsonl:42: "), e.getMessage());
        assertTrue(e.getMessage().contains("pairwise"), "names the format it got: " + e.getMessage());
        assertTrue(e.getMessage().contains("prompt-completion") && e.getMessage().contains("conversational"),
                "names what it trains on: " + e.getMessage());
    }

    @Test
    void badConversationsAreRejectedWithTheirFileAndLine() {
        DataException noAnswer = assertThrows(DataException.class, () -> SftExample.of(new ConversationalExample(
                FILE, 11, List.of(m("system", "Be brief."), m("user", "What is 2+4?"))), tok, ChatTemplate.DEFAULT));
        assertTrue(noAnswer.getMessage().startsWith(FILE + ":11: "), noAnswer.getMessage());
        assertTrue(noAnswer.getMessage().contains("assistant"), noAnswer.getMessage());

        DataException role = assertThrows(DataException.class, () -> SftExample.of(new ConversationalExample(
                FILE, 12, List.of(m("tool", "42"), m("assistant", "Six."))), tok, ChatTemplate.DEFAULT));
        assertTrue(role.getMessage().startsWith(FILE + ":12: "), role.getMessage());
        assertTrue(role.getMessage().contains("\"tool\""), role.getMessage());

        DataException noCompletionAnswer = assertThrows(DataException.class, () -> SftExample.of(
                new PromptCompletionExample(FILE, 13, Content.messages(List.of(m("user", "What is 2+4?"))),
                        Content.messages(List.of(m("user", "Well?")))), tok, ChatTemplate.DEFAULT));
        assertTrue(noCompletionAnswer.getMessage().startsWith(FILE + ":13: "), noCompletionAnswer.getMessage());
    }

    @Test
    void aTokenizerWithoutChatMarkersFailsNamingTheExampleAndTheMarker() {
        Tokenizer plain = new BpeTokenizerFactory().train(List.of("What is 2+4? Six.", "What is 2+4? Six."),
                Settings.of("tokenizer", Map.of("vocab", 280, "special_tokens", List.of("<|endoftext|>"))), n -> { });
        DataException e = assertThrows(DataException.class, () -> SftExample.of(new ConversationalExample(FILE, 14,
                List.of(m("user", "What is 2+4?"), m("assistant", "Six."))), plain, ChatTemplate.DEFAULT));
        assertTrue(e.getMessage().startsWith(FILE + ":14: "), e.getMessage());
        assertTrue(e.getMessage().contains("<|user|>"), e.getMessage());
        // plain prompt-completion text needs no markers
        SftExample ok = SftExample.of(new PromptCompletionExample(FILE, 15, Content.text("What is 2+4?"),
                Content.text(" Six.")), plain, ChatTemplate.DEFAULT);
        assertEquals(plain.eosId(), ok.sequence.id(0));
    }
}
