package org.align4j.trainer.reward;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.Content;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * What a reward model reads: {@code <eos> prompt completion <eos>}, scored at the last token. The completion's
 * tokens are marked as what must survive truncation (a sequence longer than the context loses the start of its
 * prompt). Conversational prompt and completion are rendered by the chat template.
 */
final class Sequences {
    private final Tokenizer tokenizer;
    private final ChatTemplate chat;
    private final int separator;

    Sequences(Tokenizer tokenizer, ChatTemplate chat) {
        this(tokenizer, chat, -1);
    }

    /**
     * @param separator with an id &ge; 0, a model scored by its steps ({@code score: step-credit}): the sequence is
     *        {@code <eos> prompt line1 sep line2 sep ... lineN sep}, as a process model reads a solution
     */
    Sequences(Tokenizer tokenizer, ChatTemplate chat, int separator) {
        this.tokenizer = tokenizer;
        this.chat = chat;
        this.separator = separator;
    }

    TokenSequence of(Content prompt, Content completion) {
        if (separator >= 0 && (prompt.isConversational() || completion.isConversational())) {
            throw new IllegalArgumentException("score: step-credit reads prompt-completion text, whose lines are the"
                    + " steps; this example is conversational");
        }
        if (prompt.isConversational() || completion.isConversational()) {
            List<ChatMessage> all = new ArrayList<>(prompt.isConversational() ? prompt.messages() : List.of());
            all.addAll(completion.isConversational() ? completion.messages()
                    : List.of(new ChatMessage(ChatMessage.ASSISTANT, completion.text())));
            int[] ids = concat(chat.render(tokenizer, all, false).ids(), new int[] {tokenizer.eosId()});
            int promptLength = prompt.isConversational() ? chat.render(tokenizer, prompt.messages(), true).length()
                    : 0;
            boolean[] keep = new boolean[ids.length];
            for (int i = Math.min(promptLength, ids.length); i < ids.length; i++) {
                keep[i] = true;
            }
            return new TokenSequence(ids, keep);
        }
        return of(prompt.text(), completion.text());
    }

    TokenSequence of(String prompt, String completion) {
        int[] p = concat(new int[] {tokenizer.eosId()}, tokenizer.encode(prompt));
        if (separator >= 0) {
            int[] c = new int[0];
            for (String line : org.align4j.api.reward.PromptCompletion.steps(completion)) {
                c = concat(concat(c, tokenizer.encode(line)), new int[] {separator});
            }
            return TokenSequence.of(p, c);
        }
        int[] c = concat(tokenizer.encode(completion), new int[] {tokenizer.eosId()});
        return TokenSequence.of(p, c);
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
