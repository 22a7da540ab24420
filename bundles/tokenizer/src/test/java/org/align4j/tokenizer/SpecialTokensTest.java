package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.align4j.api.data.ChatMessage;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecialTokensTest {

    @TempDir
    Path dir;

    private final BpeTokenizerFactory factory = new BpeTokenizerFactory();

    private static final List<String> ROLE_ORDER = List.of("eos", "bos", "pad", "system", "user", "assistant", "end",
            "step");
    private static final List<String> CONTENTS = List.of("<|endoftext|>", "<|bos|>", "<|pad|>", "<|system|>",
            "<|user|>", "<|assistant|>", "<|end|>", "<|step|>");

    @Test
    void theDefaultListGivesEveryRoleAnIdAfterTheBytes() throws IOException {
        Tokenizer t = factory.train(RandomText.corpus(1, 500), BpeTrainingTest.settings("vocab", 400), n -> { });
        SpecialTokens s = t.specialTokens();
        assertEquals(ROLE_ORDER, SpecialTokens.ROLES);
        for (int i = 0; i < ROLE_ORDER.size(); i++) {
            assertEquals(256 + i, s.require(ROLE_ORDER.get(i)), ROLE_ORDER.get(i));
            assertEquals(CONTENTS.get(i), s.content(ROLE_ORDER.get(i)).orElseThrow());
            assertEquals(OptionalInt.of(256 + i), t.specialTokenId(CONTENTS.get(i)));
        }
        assertEquals(256, t.eosId());
        assertEquals(258, t.padId());
        assertEquals(OptionalInt.of(257), t.bosId());
        assertEquals(OptionalInt.empty(), t.specialTokenId("<|nope|>"));
        assertEquals(OptionalInt.empty(), t.specialTokenId("a")); // an ordinary token is not special

        // tokenizer.json: every special token in added_tokens as Hugging Face writes them, and in model.vocab
        Path file = dir.resolve("tokenizer.json");
        t.save(file);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode added = root.get("added_tokens");
        assertEquals(CONTENTS.size(), added.size());
        for (int i = 0; i < CONTENTS.size(); i++) {
            JsonNode a = added.get(i);
            assertEquals(List.of("id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"),
                    fieldNames(a));
            assertEquals(256 + i, a.get("id").intValue());
            assertEquals(CONTENTS.get(i), a.get("content").textValue());
            for (String f : new String[] {"single_word", "lstrip", "rstrip", "normalized"}) {
                assertFalse(a.get(f).booleanValue(), f);
            }
            assertTrue(a.get("special").booleanValue());
            assertEquals(256 + i, root.get("model").get("vocab").get(CONTENTS.get(i)).intValue());
        }
        Tokenizer u = factory.load(file);
        assertEquals(s, u.specialTokens());
        assertEquals(t.padId(), u.padId());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** The previous version wrote one special token, {@code <|endoftext|>}, as id 256; such files load unchanged. */
    @Test
    void aFileWithOnlyEndOfTextLoadsWithItsIds() throws IOException {
        Path file = dir.resolve("old.json");
        Files.writeString(file, oldFile());
        Tokenizer t = factory.load(file);
        assertEquals(256, t.eosId());
        assertEquals(256, t.padId());
        assertEquals(OptionalInt.empty(), t.bosId());
        assertEquals(Map.of("eos", 256, "pad", 256), t.specialTokens().ids());
        assertEquals(OptionalInt.of(256), t.specialTokenId("<|endoftext|>"));
        assertEquals(257, t.vocabSize());
        assertEquals("hi", t.decode(t.encode("hi")));
        IllegalStateException noBos = assertThrows(IllegalStateException.class,
                () -> t.specialTokens().require(SpecialTokens.BOS));
        assertEquals("the tokenizer has no bos token (<|bos|>); train a new tokenizer with it in special_tokens (the"
                + " default list has it)", noBos.getMessage());
        IllegalArgumentException noChat = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.DEFAULT.render(t, List.of(new ChatMessage("user", "hi")), false));
        assertEquals("chat template: the user marker \"<|user|>\" is not a special token of this tokenizer (its"
                + " special tokens: [<|endoftext|>]); train the tokenizer with \"<|user|>\" in"
                + " special_tokens, or set chat_template.user to one of its special tokens", noChat.getMessage());
    }

    /** A minimal file as the previous version wrote it: 256 byte tokens, {@code <|endoftext|>} = 256, no merges. */
    private static String oldFile() {
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            vocab.append(b == 0 ? "" : ", ").append(TokenizerJson.quote(String.valueOf(ByteLevel.charOf(b))))
                    .append(": ").append(b);
        }
        return "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 256,"
                + " \"content\": \"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false,"
                + " \"normalized\": false, \"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\":"
                + " \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},"
                + " \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
                + " \"trim_offsets\": true, \"use_regex\": true}, \"model\": {\"type\": \"BPE\", \"dropout\": null,"
                + " \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null,"
                + " \"fuse_unk\": false, \"byte_fallback\": false, \"vocab\": {" + vocab
                + ", \"<|endoftext|>\": 256}, \"merges\": []}}";
    }

    @Test
    void rolesComeFromContentsAndTheFirstIsAlwaysEndOfText() {
        Tokenizer t = factory.train(List.of("x y z"), BpeTrainingTest.settings("vocab", 300, "special_tokens",
                List.of("<|eot|>", "<|user|>", "<|assistant|>", "<|mine|>")), n -> { });
        SpecialTokens s = t.specialTokens();
        assertEquals(256, t.eosId());
        assertEquals(256, t.padId()); // no <|pad|>: padding is end-of-text
        assertEquals(257, s.require(SpecialTokens.USER));
        assertEquals(258, s.require(SpecialTokens.ASSISTANT));
        assertEquals(OptionalInt.empty(), s.id(SpecialTokens.SYSTEM));
        assertEquals(OptionalInt.of(259), t.specialTokenId("<|mine|>")); // no role, still found by content
        assertEquals("<|eot|>", s.content(SpecialTokens.EOS).orElseThrow());
    }

    @Test
    void encodeNeverGivesSpecialIds() {
        Tokenizer t = factory.train(RandomText.corpus(2, 500), BpeTrainingTest.settings("vocab", 500), n -> { });
        String text = String.join(" and ", CONTENTS) + String.join("", CONTENTS);
        int[] ids = t.encode(text);
        for (int id : ids) {
            assertFalse(t.specialTokens().ids().containsValue(id), () -> Arrays.toString(ids));
        }
        assertEquals(text, t.decode(ids));
        // special ids decode to nothing
        assertEquals("ab", t.decode(new int[] {'a', t.specialTokens().require(SpecialTokens.USER), 'b'}));
    }

    /** A tokenizer written against the 1.0 contract still compiles and gets sensible defaults. */
    @Test
    void defaultMethodsForOtherTokenizers() {
        Tokenizer minimal = new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return text.chars().toArray();
            }

            @Override
            public String decode(int[] ids) {
                return new String(ids, 0, ids.length);
            }

            @Override
            public int vocabSize() {
                return 0x110000 + 2;
            }

            @Override
            public int eosId() {
                return 0x110000;
            }

            @Override
            public int padId() {
                return 0x110001;
            }

            @Override
            public String type() {
                return "chars";
            }

            @Override
            public void save(Path file) {
            }
        };
        assertEquals(Map.of("eos", 0x110000, "pad", 0x110001), minimal.specialTokens().ids());
        assertEquals(Map.of(), minimal.specialTokens().contents());
        assertEquals(OptionalInt.empty(), minimal.bosId());
        assertEquals(OptionalInt.empty(), minimal.specialTokenId("<|endoftext|>"));
    }

    @Test
    void specialTokensValueChecksItsInput() {
        assertEquals("unknown special token role \"tool\"; expected one of " + ROLE_ORDER,
                assertThrows(IllegalArgumentException.class, () -> SpecialTokens.of(Map.of("tool", 3), Map.of()))
                        .getMessage());
        assertEquals("special token role \"bos\" has a content but no id", assertThrows(IllegalArgumentException.class,
                () -> SpecialTokens.of(Map.of("eos", 3), Map.of("bos", "<s>"))).getMessage());
        SpecialTokens s = SpecialTokens.of(Map.of("user", 5, "eos", 3), Map.of("eos", "</s>"));
        assertEquals(List.of("eos", "user"), new ArrayList<>(s.ids().keySet())); // in role order
        assertEquals("{eos=3 </s>, user=5}", s.toString());
    }
}
