package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

class BpeTrainingTest {

    private final BpeTokenizerFactory factory = new BpeTokenizerFactory();

    /** The special tokens of the tests below that count ids by hand (the default list has eight). */
    static final List<String> EOS_ONLY = List.of("<|endoftext|>");

    static Settings settings(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Settings.of("pipeline.yaml", m);
    }

    private static List<String> mergeStrings(Tokenizer t) {
        List<String> out = new ArrayList<>();
        for (String[] m : ((BpeTokenizer) t).merges()) {
            out.add(m[0] + " " + m[1]);
        }
        return out;
    }

    /**
     * Pieces: "hug" x1, " hug" x2, " pug" x1, " pun" x1 (Ġ is the space byte). Pair counts: (u,g) 4, (h,u) 3,
     * (Ġ,h) 2, (Ġ,p) 2, (p,u) 2, (u,n) 1. Merges by hand:
     * 1. u g (4) -> pairs (h,ug) 3, (Ġ,h) 2, (Ġ,p) 2, (p,ug) 1, (p,u) 1, (u,n) 1
     * 2. h ug (3) -> (Ġ,hug) 2, (Ġ,p) 2, ...
     * 3. tie at 2: (Ġ=32, p=112) beats (Ġ=32, hug=258) on the right id -> Ġ p
     * 4. Ġ hug (2); then every pair occurs once, below min_frequency 2.
     * With min_frequency 1, ties at 1 go by the smaller left id: (u=117, n=110) before (Ġp=259, ...), giving
     * 5. u n, then (Ġp, ug=257) before (Ġp, un=261): 6. Ġp ug, 7. Ġp un.
     */
    @Test
    void mergesMatchAHandComputation() {
        List<String> corpus = List.of("hug hug hug pug pun");
        Tokenizer t = factory.train(corpus, settings("vocab", 1000, "special_tokens", EOS_ONLY), n -> { });
        assertEquals(List.of("u g", "h ug", "Ġ p", "Ġ hug"), mergeStrings(t));
        assertEquals(256 + 1 + 4, t.vocabSize());
        BpeTokenizer b = (BpeTokenizer) t;
        assertEquals("<|endoftext|>", b.token(256));
        assertEquals(256, t.eosId());
        assertEquals(256, t.padId());
        assertEquals("ug", b.token(257));
        assertEquals("hug", b.token(258));
        assertEquals("Ġp", b.token(259));
        assertEquals("Ġhug", b.token(260));
        // "hug" -> (u,g) rank 0 then (h,ug) rank 1; " pug" -> (u,g) rank 0 before (Ġ,p) rank 2; (Ġp, ug) unknown.
        assertArrayEquals(new int[] {258, 259, 257, 260}, t.encode("hug pug hug"));
        assertArrayEquals(new int[] {259, 'u', 'n', 'k'}, t.encode(" punk"));

        Tokenizer t1 = factory.train(corpus, settings("vocab", 1000, "min_frequency", 1, "special_tokens", EOS_ONLY),
                n -> { });
        assertEquals(List.of("u g", "h ug", "Ġ p", "Ġ hug", "u n", "Ġp ug", "Ġp un"), mergeStrings(t1));
        assertEquals(256 + 1 + 7, t1.vocabSize());
    }

    @Test
    void trainingIsDeterministicAndIndependentOfCorpusOrder() {
        List<String> corpus = RandomText.corpus(11, 3000);
        Tokenizer a = factory.train(corpus, settings("vocab", 700), n -> { });
        Tokenizer b = factory.train(corpus, settings("vocab", 700), n -> { });
        List<String> shuffled = new ArrayList<>(corpus);
        Collections.shuffle(shuffled, new java.util.Random(5));
        Tokenizer c = factory.train(shuffled, settings("vocab", 700), n -> { });
        assertEquals(mergeStrings(a), mergeStrings(b));
        assertEquals(mergeStrings(a), mergeStrings(c)); // counts do not depend on order
        String probe = String.join("\n", corpus.subList(0, 50));
        assertArrayEquals(a.encode(probe), c.encode(probe));
        // A larger vocabulary extends the smaller one: greedy merges, ids in creation order.
        Tokenizer big = factory.train(corpus, settings("vocab", 900), n -> { });
        assertEquals(mergeStrings(a), mergeStrings(big).subList(0, mergeStrings(a).size()));
    }

    @Test
    void vocabularySizeIsReachedExactlyWhenTheCorpusAllows() {
        List<String> corpus = RandomText.corpus(12, 4000);
        for (int vocab : new int[] {257, 300, 512, 1024}) {
            Tokenizer t = factory.train(corpus, settings("vocab", vocab, "special_tokens", EOS_ONLY), n -> { });
            assertEquals(vocab, t.vocabSize(), "vocab " + vocab);
        }
        Tokenizer three = factory.train(corpus,
                settings("vocab", 600, "special_tokens", List.of("<|endoftext|>", "<|pad|>", "<|user|>")), n -> { });
        assertEquals(600, three.vocabSize());
        assertEquals("<|pad|>", ((BpeTokenizer) three).token(257));
    }

    @Test
    void stopsWhenNoPairIsFrequentEnough() {
        // "ab ab ab": pieces "ab" x1, " ab" x2: (a,b) 3 -> ab; (Ġ,ab) 2 -> Ġab; nothing left to merge.
        Tokenizer t = factory.train(List.of("ab ab ab"), settings("vocab", 2048, "special_tokens", EOS_ONLY),
                n -> { });
        assertEquals(List.of("a b", "Ġ ab"), mergeStrings(t));
        assertEquals(259, t.vocabSize());
        Tokenizer empty = factory.train(List.of(), settings(), n -> { });
        assertEquals(256 + BpeTokenizerFactory.DEFAULT_SPECIALS.size(), empty.vocabSize());
        assertEquals("héllo", empty.decode(empty.encode("héllo")));
        assertEquals("héllo".getBytes(java.nio.charset.StandardCharsets.UTF_8).length, empty.encode("héllo").length);
    }

    @Test
    void progressIsReportedUpToTheNumberOfMerges() {
        List<Long> seen = new ArrayList<>();
        Tokenizer t = factory.train(RandomText.corpus(13, 2000), settings("vocab", 600), seen::add);
        int merges = ((BpeTokenizer) t).mergeCount();
        assertEquals(600 - 256 - BpeTokenizerFactory.DEFAULT_SPECIALS.size(), merges);
        assertTrue(seen.size() >= merges / BpeTrainer.PROGRESS_EVERY, seen.toString());
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1));
        }
        assertEquals(merges, seen.get(seen.size() - 1));
    }

    @Test
    void specialTokensAreNeverProducedFromText() {
        // The special token "abc" is one GPT-2 piece; the corpus would merge it if allowed.
        List<String> corpus = Collections.nCopies(50, "abc abc abc <|endoftext|> abc");
        Tokenizer t = factory.train(corpus, settings("vocab", 300, "min_frequency", 1,
                "special_tokens", List.of("<|endoftext|>", "abc")), n -> { });
        int eos = t.eosId();
        int abc = ((BpeTokenizer) t).specialIds()[1];
        String text = "abc <|endoftext|>abc";
        int[] ids = t.encode(text);
        for (int id : ids) {
            assertNotEquals(eos, id);
            assertNotEquals(abc, id);
        }
        assertEquals(text, t.decode(ids));
        assertTrue(mergeStrings(t).stream().noneMatch(m -> m.replace(" ", "").equals("abc")), mergeStrings(t).toString());
        // Special tokens decode to nothing.
        assertEquals("", t.decode(new int[] {eos, abc}));
        int[] joined = concat(t.encode("one"), new int[] {eos}, t.encode(" two"));
        assertEquals("one two", t.decode(joined));
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int k = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, k, p.length);
            k += p.length;
        }
        return out;
    }

    @Test
    void compressesARepetitiveCorpus() {
        List<String> corpus = RandomText.corpus(14, 3000);
        Tokenizer t = factory.train(corpus, settings("vocab", 1024), n -> { });
        String held = String.join("\n", RandomText.corpus(99, 200)); // same distribution, unseen lines
        int bytes = held.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        int tokens = t.encode(held).length;
        assertTrue(tokens * 3 < bytes, "expected at least 3 bytes per token, got " + bytes + " bytes in " + tokens
                + " tokens");
    }

    @Test
    void trainsOnFiftyThousandLines() {
        // Scale check only; how fast this is belongs in a benchmark, not in a timed unit test.
        List<String> corpus = RandomText.corpus(15, 50_000);
        long t0 = System.nanoTime();
        Tokenizer t = factory.train(corpus, settings("vocab", 2048), n -> { });
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(2048, t.vocabSize());
        for (String line : corpus.subList(0, 200)) {
            assertEquals(line, t.decode(t.encode(line)));
        }
        System.out.printf("bpe: 50k lines, vocab 2048 trained in %.2f s%n", seconds);
    }

    @Test
    void settingsAreChecked() {
        SettingsException small = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("vocab", 100), n -> { }));
        assertEquals("pipeline.yaml: vocab: expected at least 264 (the 256 byte tokens and 8 special tokens), got 100;"
                + " a useful vocabulary is larger still, e.g. 512 to 8192", small.getMessage());
        SettingsException smallOne = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("vocab", 100, "special_tokens", EOS_ONLY), n -> { }));
        assertEquals("pipeline.yaml: vocab: expected at least 257 (the 256 byte tokens and 1 special token), got 100;"
                + " a useful vocabulary is larger still, e.g. 512 to 8192", smallOne.getMessage());
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("vocab_size", 600), n -> { }));
        assertEquals("pipeline.yaml: vocab_size: unknown setting (accepted here: vocab, min_frequency,"
                + " special_tokens)", unknown.getMessage());
        // validate() (what a pipeline calls before anything runs) rejects them the same way
        assertEquals(small.getMessage(), assertThrows(SettingsException.class,
                () -> factory.validate(settings("vocab", 100))).getMessage());
        assertEquals(unknown.getMessage(), assertThrows(SettingsException.class,
                () -> factory.validate(settings("vocab_size", 600))).getMessage());
        SettingsException notList = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("special_tokens", "<|eos|>"), n -> { }));
        assertTrue(notList.getMessage().startsWith("pipeline.yaml: special_tokens: expected a list of names"),
                notList.getMessage());
        SettingsException byteName = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("special_tokens", List.of("<|eos|>", "a")), n -> { }));
        assertTrue(byteName.getMessage().startsWith("pipeline.yaml: special_tokens[1]: \"a\" is the byte-level"
                + " token of byte 0x61"), byteName.getMessage());
        SettingsException twice = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("special_tokens", List.of("<|e|>", "<|e|>")), n -> { }));
        assertEquals("pipeline.yaml: special_tokens[1]: \"<|e|>\" is listed twice", twice.getMessage());
        SettingsException tooManySpecials = assertThrows(SettingsException.class, () -> factory.train(List.of("x"),
                settings("vocab", 257, "special_tokens", List.of("<|a|>", "<|b|>")), n -> { }));
        assertTrue(tooManySpecials.getMessage().contains("expected at least 258"), tooManySpecials.getMessage());
        SettingsException minFreq = assertThrows(SettingsException.class,
                () -> factory.train(List.of("x"), settings("min_frequency", 0), n -> { }));
        assertEquals("pipeline.yaml: min_frequency: expected a whole number of at least 1, got 0",
                minFreq.getMessage());
        assertEquals(512, factory.train(RandomText.corpus(1, 2000), settings(), null).vocabSize());
    }
}
