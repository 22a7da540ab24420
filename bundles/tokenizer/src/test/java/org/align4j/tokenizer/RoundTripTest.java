package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RoundTripTest {

    private static Tokenizer untrained;
    private static Tokenizer trained;

    @BeforeAll
    static void train() {
        BpeTokenizerFactory f = new BpeTokenizerFactory();
        untrained = f.train(List.of(), BpeTrainingTest.settings(), n -> { });
        // Train on mixed-script text so merges span multi-byte characters, whitespace runs and emoji.
        SplittableRandom rnd = new SplittableRandom(21);
        List<String> corpus = new java.util.ArrayList<>(RandomText.corpus(22, 2000));
        for (int i = 0; i < 2000; i++) {
            corpus.add(RandomText.string(rnd, 30));
        }
        trained = f.train(corpus, BpeTrainingTest.settings("vocab", 1500, "min_frequency", 1), n -> { });
    }

    @Test
    void randomStringsRoundTrip() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 3000; i++) {
            String s = RandomText.string(rnd, 60);
            assertEquals(s, untrained.decode(untrained.encode(s)), () -> "untrained: " + escape(s));
            int[] ids = trained.encode(s);
            assertEquals(s, trained.decode(ids), () -> "trained: " + escape(s));
            for (int id : ids) {
                assertTrue(id != trained.eosId() && id >= 0 && id < trained.vocabSize());
            }
        }
    }

    @Test
    void specialCasesRoundTrip() {
        String[] cases = {"", " ", "\n", "\r\n\r\n", "   \t\t  \n  ", "a", "日本語のテキスト", "👩‍👩‍👧‍👦 family",
            "e\u0301\u0302\u0303", "\u0000\u0001\u007F", "\uFFFD\uFEFF", "don't they'll I'M", "x".repeat(5000),
            " ".repeat(3000) + "y", "<|endoftext|>", "\uD800\uDC00 \uDBFF\uDFFF"};
        for (String s : cases) {
            assertEquals(s, trained.decode(trained.encode(s)), () -> escape(s));
            assertEquals(s, untrained.decode(untrained.encode(s)), () -> escape(s));
        }
    }

    @Test
    void loneSurrogatesBecomeTheReplacementCharacter() {
        // A lone surrogate is not a character and has no UTF-8 form: it comes back as U+FFFD.
        assertEquals("a\uFFFDb\uFFFD", trained.decode(trained.encode("a\uD800b\uDFFF")));
    }

    @Test
    void decodeRejectsUnknownIdsAndRepairsCutCharacters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> trained.decode(new int[] {trained.vocabSize()}));
        assertEquals("token id 1500 is not in the vocabulary (ids 0..1499)", e.getMessage());
        int[] euro = untrained.encode("€"); // three byte tokens
        assertEquals(3, euro.length);
        assertEquals("\uFFFD", untrained.decode(new int[] {euro[0], euro[1]}));
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(cp < 0x7F && cp >= 0x20 ? String.valueOf((char) cp)
                : String.format("\\u{%X}", cp)));
        return b.toString();
    }
}
