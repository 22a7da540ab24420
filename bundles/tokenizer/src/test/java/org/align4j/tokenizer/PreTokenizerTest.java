package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class PreTokenizerTest {

    @Test
    void splitsLikeGpt2() {
        assertEquals(List.of("Hello", ",", " world", "!"), PreTokenizer.split("Hello, world!"));
        // Contractions split off; a run of spaces leaves its last space to the next word.
        assertEquals(List.of("I", "'m", " ", " here", "\n", "\n", "ok"), PreTokenizer.split("I'm  here\n\nok"));
        assertEquals(List.of("we", "'ll", " see", " it", "'s"), PreTokenizer.split("we'll see it's"));
        // Letters, numbers and punctuation are separate; a space attaches to what follows it.
        assertEquals(List.of("abc", "123", " ", " 3", ".", "14"), PreTokenizer.split("abc123  3.14"));
        assertEquals(List.of("37", "+", "45", "=", "82"), PreTokenizer.split("37+45=82"));
        // Trailing whitespace is one piece.
        assertEquals(List.of("end", "   "), PreTokenizer.split("end   "));
        // \s is Unicode-aware: NBSP and the ideographic space are whitespace, not punctuation.
        assertEquals(List.of("a", "\u00A0", "b"), PreTokenizer.split("a\u00A0b"));
        assertEquals(List.of("日本", "\u3000", "語"), PreTokenizer.split("日本\u3000語"));
        // Supplementary characters stay whole: emoji are neither letters nor numbers.
        assertEquals(List.of("hi", " 😀😀", " x"), PreTokenizer.split("hi 😀😀 x"));
        // Combining marks are not letters (category M), so they split from their base.
        assertEquals(List.of("e", "\u0301", "t"), PreTokenizer.split("e\u0301t"));
        assertEquals(List.of(), PreTokenizer.split(""));
    }

    @Test
    void piecesConcatenateToTheText() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < 2000; i++) {
            String s = RandomText.string(rnd, 40);
            assertEquals(s, String.join("", PreTokenizer.split(s)));
        }
    }
}
