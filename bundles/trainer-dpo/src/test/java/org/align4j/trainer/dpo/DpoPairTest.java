package org.align4j.trainer.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import org.align4j.api.data.Content;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.junit.jupiter.api.Test;

/** {@link DpoPair}'s sequences, whole and cut after the first line where chosen and rejected part. */
class DpoPairTest {
    static final Tokenizer TOK = new BpeTokenizerFactory().train(List.of("1. 3+1=4, write 4\nA: 4",
            "2. 8+6=14, write 4 carry 1\n3. 6+5+1=12, write 12\nA: 124"), Settings.of("tokenizer",
                    Map.of("vocab", 300)), n -> { });

    static DpoPair pair(String chosen, String rejected, boolean firstDifferentLine) {
        return DpoPair.of(new PairwiseExample("pairs.jsonl", 1, Content.text("Q: 68+56=?\n"), Content.text(chosen),
                Content.text(rejected), OptionalDouble.empty()), TOK, firstDifferentLine);
    }

    /** The text of the tokens in the loss, with {@code <eos>} written out where it is one of them. */
    static String completion(TokenSequence s) {
        List<Integer> ids = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.inLoss(i)) {
                ids.add(s.ids()[i]);
            }
        }
        for (int id : ids) {
            out.append(id == TOK.eosId() ? "<eos>" : TOK.decode(new int[] {id}));
        }
        return out.toString();
    }

    @Test
    void wholeCompletionsEndWithEos() {
        DpoPair p = pair("1. 8+6=14, write 4 carry 1\n2. 6+5+1=12, write 12\nA: 124",
                "1. 8+6=14, write 4 carry 1\n2. 6+5+1=13, write 13\nA: 134", false);
        assertEquals("1. 8+6=14, write 4 carry 1\n2. 6+5+1=12, write 12\nA: 124<eos>", completion(p.chosen));
        assertEquals("1. 8+6=14, write 4 carry 1\n2. 6+5+1=13, write 13\nA: 134<eos>", completion(p.rejected));
    }

    @Test
    void firstDifferentLineCutsEachAfterTheLineWhereTheyPart() {
        DpoPair p = pair("1. 8+6=14, write 4 carry 1\n2. 6+5+1=12, write 12\nA: 124",
                "1. 8+6=14, write 4 carry 1\n2. 6+5+1=13, write 13\nA: 134", true);
        assertEquals("1. 8+6=14, write 4 carry 1\n2. 6+5+1=12, write 12\n", completion(p.chosen));
        assertEquals("1. 8+6=14, write 4 carry 1\n2. 6+5+1=13, write 13\n", completion(p.rejected));
        assertEquals("1. 8+6=14, write 4 carry 1\n2. 6+5+1=12, write 12\nA: 124", p.chosenText,
                "the chosen text (the held-out reference answer) stays whole");

        // parting on the last line (no newline after it): to the end, with <eos>
        DpoPair last = pair("1. 3+1=4, write 4\nA: 4", "1. 3+1=4, write 4\nA: 5", true);
        assertEquals("1. 3+1=4, write 4\nA: 4<eos>", completion(last.chosen));
        assertEquals("1. 3+1=4, write 4\nA: 5<eos>", completion(last.rejected));

        // parting on the first line: that line only
        DpoPair first = pair("1. 3+1=4, write 4\nA: 4", "1. 3+1=5, write 5\nA: 5", true);
        assertEquals("1. 3+1=4, write 4\n", completion(first.chosen));
        assertEquals("1. 3+1=5, write 5\n", completion(first.rejected));
        assertTrue(first.chosen.length() < pair("1. 3+1=4, write 4\nA: 4", "1. 3+1=5, write 5\nA: 5", false)
                .chosen.length(), "the cut tokens are not fed at all");
    }

    @Test
    void pairsOfAHeldOutPromptAreNotTrainedOn() {
        DpoPair a = DpoPair.of(new PairwiseExample("pairs.jsonl", 1, Content.text("Q: 1+1=?\n"), Content.text("A: 2"),
                Content.text("A: 3"), OptionalDouble.empty()), TOK, false);
        DpoPair b = DpoPair.of(new PairwiseExample("pairs.jsonl", 2, Content.text("Q: 2+2=?\n"), Content.text("A: 4"),
                Content.text("A: 5"), OptionalDouble.empty()), TOK, false);
        DpoPair b2 = DpoPair.of(new PairwiseExample("pairs.jsonl", 3, Content.text("Q: 2+2=?\n"), Content.text("A: 4"),
                Content.text("A: 44"), OptionalDouble.empty()), TOK, false);
        DpoPair heldB = DpoPair.of(new PairwiseExample("held.jsonl", 1, Content.text("Q: 2+2=?\n"),
                Content.text("A: 4"), Content.text("A: 6"), OptionalDouble.empty()), TOK, false);
        assertEquals(List.of(a), DpoTrainer.withoutHeldOutPrompts(List.of(a, b, b2), List.of(heldB)));
        assertEquals(List.of(a, b, b2), DpoTrainer.withoutHeldOutPrompts(List.of(a, b, b2), List.of()));
    }

    @Test
    void compareIsCheckedByName() {
        Settings ok = Settings.of("p.yaml", Map.of("compare", "first-different-line", "steps", 1, "batch", 1,
                "optimizer", Map.of("name", "adamw", "lr", 1e-5)));
        assertTrue(new DpoSettings(ok).firstDifferentLine);
        SettingsException e = assertThrows(SettingsException.class, () -> new DpoSettings(Settings.of("p.yaml",
                Map.of("compare", "first-line", "steps", 1, "batch", 1, "optimizer", Map.of("name", "adamw", "lr",
                        1e-5)))));
        assertTrue(e.getMessage().contains("compare") && e.getMessage().contains("first-different-line"),
                e.getMessage());
    }
}
