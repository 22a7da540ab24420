package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.align4j.api.data.ChatMessage;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance check of the {@code tokenizer.json} align4j writes: Hugging Face's own {@code tokenizers} library
 * (the Rust crate, through DJL's JNI binding, whose jar carries the native library) loads it and gives the same ids
 * and the same decoded text, on 1,000 strings: plain strings of mixed scripts and whitespace, and conversations
 * rendered by {@link ChatTemplate} (Hugging Face reads {@link ChatTemplate#renderText}, whose markers it splits out as
 * special tokens).
 *
 * <p>Where the two differ by design: Hugging Face turns the text of a special token in the input into its id,
 * align4j's {@code encode} never does (see {@link Tokenizer}); checked below.
 */
class HuggingFaceCompatibilityTest {

    @TempDir
    static Path dir;

    private static Tokenizer ours;
    private static HuggingFaceTokenizer hf;

    @BeforeAll
    static void trainSaveAndLoadInHuggingFace() throws IOException {
        SplittableRandom rnd = new SplittableRandom(101);
        List<String> corpus = new ArrayList<>(RandomText.corpus(102, 2000));
        for (int i = 0; i < 2000; i++) {
            corpus.add(RandomText.string(rnd, 30));
        }
        ours = new BpeTokenizerFactory().train(corpus, BpeTrainingTest.settings("vocab", 1500, "min_frequency", 1),
                n -> { });
        Path file = dir.resolve("tokenizer.json");
        ours.save(file);
        hf = HuggingFaceTokenizer.newInstance(file, Map.of());
    }

    @AfterAll
    static void close() {
        if (hf != null) {
            hf.close();
        }
    }

    private static int[] hfIds(String text) {
        Encoding e = hf.encode(text, false, false);
        return Arrays.stream(e.getIds()).mapToInt(Math::toIntExact).toArray();
    }

    private static long[] longs(int[] ids) {
        return Arrays.stream(ids).asLongStream().toArray();
    }

    @Test
    void sameIdsAndTextOnOneThousandStrings() {
        SplittableRandom rnd = new SplittableRandom(103);
        List<String> plain = new ArrayList<>(List.of("", " ", "\n", "\r\n\r\n", "   \t\t  \n  ", "a",
                "Ça va? Très bien, déjà vu — naïve façade", "日本語のテキストと中文", "👩‍👩‍👧‍👦 family 🎉🎉",
                "e\u0301\u0302\u0303", "\u0000\u0001\u007F", "\uFFFD\uFEFF", "don't they'll I'M we've",
                "x".repeat(500), " ".repeat(300) + "y", "line one\nline two\n\n\tindented\r\n", "tabs\t\tand  spaces   ",
                "\u00A0non-breaking\u3000ideographic\u2028line separator\u0085next line", "12345 ٠١٢ ² Ⅰ ０ 𐍈"));
        plain.addAll(RandomText.corpus(104, 100));
        while (plain.size() < 750) {
            plain.add(RandomText.string(rnd, 60));
        }
        int checked = 0;
        for (String s : plain) {
            int[] ids = ours.encode(s);
            assertArrayEquals(hfIds(s), ids, () -> "ids of " + escape(s));
            assertEquals(s, ours.decode(ids));
            assertEquals(s, hf.decode(longs(ids), true), () -> "Hugging Face decode of " + escape(s));
            assertEquals(s, hf.decode(longs(ids), false), () -> "Hugging Face decode of " + escape(s));
            checked++;
        }

        ChatTemplate template = ChatTemplate.DEFAULT;
        SpecialTokens sp = ours.specialTokens();
        int[] markers = {sp.require(SpecialTokens.SYSTEM), sp.require(SpecialTokens.USER),
            sp.require(SpecialTokens.ASSISTANT), sp.require(SpecialTokens.END)};
        int conversations = 0;
        int markerTokens = 0;
        while (checked < 1000) {
            List<ChatMessage> chat = conversation(rnd);
            boolean prompt = rnd.nextBoolean();
            ChatTemplate.Rendered r = template.render(ours, chat, prompt);
            String text = template.renderText(chat, prompt);
            int[] ids = r.ids();
            assertArrayEquals(hfIds(text), ids, () -> "ids of " + escape(text));
            // Hugging Face writes the special tokens back as their text unless told to skip them; align4j's decode
            // skips them always.
            assertEquals(text, hf.decode(longs(ids), false), () -> "Hugging Face decode of " + escape(text));
            assertEquals(ours.decode(ids), hf.decode(longs(ids), true), () -> "decode of " + escape(text));
            // each message gives its role marker and <|end|>, the prompt one more marker; no other special id
            int specials = 0;
            for (int id : ids) {
                for (int m : markers) {
                    specials += id == m ? 1 : 0;
                }
            }
            assertEquals(2 * chat.size() + (prompt ? 1 : 0), specials, () -> escape(text));
            assertEquals(specials, Arrays.stream(ids).filter(sp.ids()::containsValue).count());
            markerTokens += specials;
            checked++;
            conversations++;
        }
        assertEquals(1000, checked);
        assertTrue(conversations >= 200, "conversations: " + conversations);
        System.out.printf("Hugging Face tokenizers (DJL): %d plain strings and %d conversations (%d marker tokens)"
                + " gave the same ids and text%n", checked - conversations, conversations, markerTokens);
    }

    @Test
    void specialTokensHaveTheSameIdsAndOnlyHuggingFaceSplitsThemOutOfText() {
        for (Map.Entry<String, String> e : SpecialTokens.defaultContents().entrySet()) {
            int id = ours.specialTokens().require(e.getKey());
            assertArrayEquals(new int[] {id}, hfIds(e.getValue()), e.getKey());
            assertEquals(id, ours.specialTokenId(e.getValue()).getAsInt());
            // align4j: the text "<|user|>" typed by someone stays ordinary text
            int[] plain = ours.encode(e.getValue());
            assertTrue(plain.length > 1, e.getKey());
            assertFalse(Arrays.stream(plain).anyMatch(ours.specialTokens().ids()::containsValue), e.getKey());
            assertEquals(e.getValue(), ours.decode(plain));
            assertEquals(e.getValue(), hf.decode(longs(plain), true));
        }
    }

    /** One to six messages: an optional system message, then user and assistant turns (the last may be either). */
    private static List<ChatMessage> conversation(SplittableRandom rnd) {
        List<ChatMessage> chat = new ArrayList<>();
        if (rnd.nextInt(3) == 0) {
            chat.add(new ChatMessage(ChatMessage.SYSTEM, content(rnd)));
        }
        int turns = 1 + rnd.nextInt(5);
        for (int i = 0; i < turns; i++) {
            chat.add(new ChatMessage(i % 2 == 0 ? ChatMessage.USER : ChatMessage.ASSISTANT, content(rnd)));
        }
        return chat;
    }

    private static String content(SplittableRandom rnd) {
        String s = rnd.nextBoolean() ? RandomText.string(rnd, 40) : RandomText.corpus(rnd.nextLong(), 1).get(0);
        return s.replace("<|", "<"); // a message that spells a marker is read as one by Hugging Face only
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(cp < 0x7F && cp >= 0x20 ? String.valueOf((char) cp)
                : String.format("\\u{%X}", cp)));
        return b.toString();
    }
}
