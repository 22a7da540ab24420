package org.align4j.trainer.dpo;

import org.align4j.api.data.DataException;
import org.align4j.api.data.Example;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * One preference pair as token ids: {@code <eos> prompt chosen <eos>} and {@code <eos> prompt rejected <eos>}, each
 * with a loss mask over its completion and final {@code <eos>} (the tokens whose log-probabilities DPO sums), the
 * prompt's ids (what generation continues) and the texts.
 */
final class DpoPair {
    final String prompt;
    final String chosenText;
    final int[] promptIds;
    final TokenSequence chosen;
    final TokenSequence rejected;

    private DpoPair(String prompt, String chosenText, int[] promptIds, TokenSequence chosen, TokenSequence rejected) {
        this.prompt = prompt;
        this.chosenText = chosenText;
        this.promptIds = promptIds;
        this.chosen = chosen;
        this.rejected = rejected;
    }

    static DpoPair of(Example e, Tokenizer tokenizer) {
        return of(e, tokenizer, false);
    }

    /**
     * @param firstDifferentLine cut each completion after the line in which it first differs from the other one
     *     (the token holding that line's {@code '\n'}, or the end with {@code <eos>} when no newline follows): the
     *     pair then compares the first step where the answers part, not the lines that follow from it
     */
    static DpoPair of(Example e, Tokenizer tokenizer, boolean firstDifferentLine) {
        if (!(e instanceof PairwiseExample)) {
            throw new DataException(e.source(), e.line(), "dpo trains on preference pairs (prompt, chosen, rejected),"
                    + " not " + e.format().trlName() + " examples");
        }
        PairwiseExample p = (PairwiseExample) e;
        if (p.prompt().isConversational() || p.chosen().isConversational() || p.rejected().isConversational()) {
            throw new DataException(e.source(), e.line(), "dpo reads prompt-completion text pairs; conversational pairs"
                    + " are not supported yet");
        }
        int[] prompt = concat(new int[] {tokenizer.eosId()}, tokenizer.encode(p.prompt().text()));
        int[] chosen = concat(tokenizer.encode(p.chosen().text()), new int[] {tokenizer.eosId()});
        int[] rejected = concat(tokenizer.encode(p.rejected().text()), new int[] {tokenizer.eosId()});
        if (firstDifferentLine) {
            int common = 0;
            while (common < chosen.length && common < rejected.length && chosen[common] == rejected[common]) {
                common++;
            }
            chosen = java.util.Arrays.copyOf(chosen, lineEnd(chosen, common, tokenizer));
            rejected = java.util.Arrays.copyOf(rejected, lineEnd(rejected, common, tokenizer));
        }
        return new DpoPair(p.prompt().text(), p.chosen().text(), prompt, TokenSequence.of(prompt, chosen),
                TokenSequence.of(prompt, rejected));
    }

    /** One past the first token at or after {@code from} whose text holds a newline; {@code ids.length} if none. */
    private static int lineEnd(int[] ids, int from, Tokenizer tokenizer) {
        for (int i = from; i < ids.length; i++) {
            if (tokenizer.decode(new int[] {ids[i]}).indexOf('\n') >= 0) {
                return i + 1;
            }
        }
        return ids.length;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
