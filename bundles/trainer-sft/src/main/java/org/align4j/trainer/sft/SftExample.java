package org.align4j.trainer.sft;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.ConversationalExample;
import org.align4j.api.data.DataException;
import org.align4j.api.data.Example;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * One SFT example as token ids: the whole sequence with a loss mask that covers only what the model is to learn to
 * write, the prompt ids that generation continues, and the reference answer.
 *
 * <ul>
 * <li>prompt-completion text: {@code <eos> prompt completion <eos>} (the end-of-text token starts a document, as in
 * the packed pre-training corpus, and ends the answer); the loss covers {@code completion <eos>}.</li>
 * <li>conversational (a {@code messages} list, or a prompt/completion of messages): the chat template's rendering;
 * the loss covers the assistant turns (with their end-of-turn marker) of the completion, or of the whole
 * conversation when there is no separate prompt. The prompt to answer is everything before the last assistant turn
 * plus the assistant marker.</li>
 * </ul>
 */
final class SftExample {
    final String location;
    /** The prompt as text (what a task's verifier reads). */
    final String prompt;
    /** The answer the data gives. */
    final String reference;
    /** What generation continues. */
    final int[] promptIds;
    /** Prompt and answer, with the loss mask. */
    final TokenSequence sequence;

    private SftExample(String location, String prompt, String reference, int[] promptIds, TokenSequence sequence) {
        this.location = location;
        this.prompt = prompt;
        this.reference = reference;
        this.promptIds = promptIds;
        this.sequence = sequence;
    }

    static SftExample of(Example e, Tokenizer tokenizer, ChatTemplate chat) {
        if (e instanceof PromptCompletionExample) {
            PromptCompletionExample pc = (PromptCompletionExample) e;
            if (!pc.prompt().isConversational() && !pc.completion().isConversational()) {
                int[] prompt = concat(new int[] {tokenizer.eosId()}, tokenizer.encode(pc.prompt().text()));
                int[] completion = concat(tokenizer.encode(pc.completion().text()), new int[] {tokenizer.eosId()});
                return new SftExample(e.location(), pc.prompt().text(), pc.completion().text(), prompt,
                        TokenSequence.of(prompt, completion));
            }
            List<ChatMessage> prompt = pc.prompt().messages();
            List<ChatMessage> all = new ArrayList<>(prompt);
            all.addAll(pc.completion().messages());
            return conversation(e, all, prompt, last(pc.completion().messages(), e), tokenizer, chat);
        }
        if (e instanceof ConversationalExample) {
            List<ChatMessage> messages = ((ConversationalExample) e).messages();
            int lastAssistant = -1;
            for (int i = 0; i < messages.size(); i++) {
                if (messages.get(i).role().equals(ChatMessage.ASSISTANT)) {
                    lastAssistant = i;
                }
            }
            if (lastAssistant < 0) {
                throw new DataException(e.source(), e.line(), "field \"messages\": no assistant turn to learn");
            }
            return conversation(e, messages, List.of(), messages.get(lastAssistant).content(), tokenizer, chat);
        }
        throw new DataException(e.source(), e.line(), "sft trains on prompt-completion or conversational examples,"
                + " not " + e.format().trlName() + " ones");
    }

    private static String last(List<ChatMessage> completion, Example e) {
        for (int i = completion.size() - 1; i >= 0; i--) {
            if (completion.get(i).role().equals(ChatMessage.ASSISTANT)) {
                return completion.get(i).content();
            }
        }
        throw new DataException(e.source(), e.line(), "field \"completion\": no assistant turn to learn");
    }

    /** @param prompt the messages before what is learnt (empty: learn every assistant turn) */
    private static SftExample conversation(Example e, List<ChatMessage> all, List<ChatMessage> prompt,
            String reference, Tokenizer tokenizer, ChatTemplate chat) {
        ChatTemplate.Rendered whole;
        try {
            whole = chat.render(tokenizer, all, false);
        } catch (IllegalStateException | IllegalArgumentException x) {
            throw new DataException(e.source(), e.line(), x.getMessage());
        }
        boolean[] mask = whole.assistantMask().clone();
        int[] promptIds;
        if (!prompt.isEmpty()) {
            int skip = chat.render(tokenizer, prompt, false).length();
            for (int i = 0; i < Math.min(skip, mask.length); i++) {
                mask[i] = false; // the prompt's own assistant turns are context, not targets
            }
            promptIds = chat.render(tokenizer, prompt, true).ids();
        } else {
            int last = all.size() - 1;
            while (!all.get(last).role().equals(ChatMessage.ASSISTANT)) {
                last--;
            }
            promptIds = chat.render(tokenizer, all.subList(0, last), true).ids();
        }
        StringBuilder text = new StringBuilder();
        for (ChatMessage m : prompt.isEmpty() ? all : prompt) {
            if (!m.role().equals(ChatMessage.ASSISTANT) || !prompt.isEmpty()) {
                text.append(text.length() == 0 ? "" : "\n").append(m.content());
            }
        }
        return new SftExample(e.location(), text.toString(), reference, promptIds,
                new TokenSequence(whole.ids(), mask));
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
