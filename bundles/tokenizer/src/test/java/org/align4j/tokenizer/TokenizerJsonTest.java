package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final BpeTokenizerFactory factory = new BpeTokenizerFactory();

    @Test
    void saveThenLoadGivesTheSameTokenizer() throws IOException {
        Tokenizer t = factory.train(RandomText.corpus(31, 3000),
                BpeTrainingTest.settings("vocab", 800, "special_tokens", List.of("<|endoftext|>", "<|pad|>")),
                n -> { });
        Path file = dir.resolve("sub/tokenizer.json");
        t.save(file);
        Tokenizer u = factory.load(file);
        assertEquals(t.vocabSize(), u.vocabSize());
        assertEquals(t.eosId(), u.eosId());
        assertEquals(t.padId(), u.padId());
        assertEquals("bpe", u.type());
        for (int id = 0; id < t.vocabSize(); id++) {
            assertEquals(((BpeTokenizer) t).token(id), ((BpeTokenizer) u).token(id));
        }
        SplittableRandom rnd = new SplittableRandom(1);
        List<String> probes = new ArrayList<>(RandomText.corpus(32, 300));
        for (int i = 0; i < 300; i++) {
            probes.add(RandomText.string(rnd, 40));
        }
        for (String s : probes) {
            assertArrayEquals(t.encode(s), u.encode(s), s);
        }
        // Saving again replaces the file whole and leaves no temporary file behind.
        u.save(file);
        assertArrayEquals(t.encode(probes.get(0)), factory.load(file).encode(probes.get(0)));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void savedFileHasHuggingFaceLayout() throws IOException {
        Tokenizer t = factory.train(List.of("hug hug hug pug pun"), BpeTrainingTest.settings("vocab", 1000,
                "special_tokens", BpeTrainingTest.EOS_ONLY), n -> { });
        Path file = dir.resolve("tokenizer.json");
        t.save(file);
        JsonNode root = JSON.readTree(file.toFile());
        assertEquals("1.0", root.get("version").textValue());
        assertTrue(root.get("truncation").isNull());
        assertTrue(root.get("padding").isNull());
        assertTrue(root.get("normalizer").isNull());
        assertTrue(root.get("post_processor").isNull());
        JsonNode added = root.get("added_tokens");
        assertEquals(1, added.size());
        assertEquals(JSON.readTree("{\"id\":256,\"content\":\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":false,\"special\":true}"), added.get(0));
        assertEquals(JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                + "\"use_regex\":true}"), root.get("pre_tokenizer"));
        assertEquals("ByteLevel", root.get("decoder").get("type").textValue());
        JsonNode model = root.get("model");
        assertEquals("BPE", model.get("type").textValue());
        for (String k : new String[] {"dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix"}) {
            assertTrue(model.get(k).isNull(), k);
        }
        assertFalse(model.get("fuse_unk").booleanValue());
        assertFalse(model.get("byte_fallback").booleanValue());
        assertEquals(JSON.readTree("[[\"u\",\"g\"],[\"h\",\"ug\"],[\"Ġ\",\"p\"],[\"Ġ\",\"hug\"]]"),
                model.get("merges"));
        JsonNode vocab = model.get("vocab");
        assertEquals(261, vocab.size());
        assertEquals(0x20, vocab.get("Ġ").intValue());
        assertEquals(0x0A, vocab.get("Ċ").intValue());
        assertEquals(256, vocab.get("<|endoftext|>").intValue());
        assertEquals(260, vocab.get("Ġhug").intValue());
        // Written as UTF-8 text, vocabulary in id order.
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.indexOf("\"Ā\"") < text.indexOf("\"Ġhug\""));
    }

    // ------------------------------------------------------------------ a hand-written Hugging Face file

    /**
     * GPT-2's byte table, computed here from its definition independently of {@link ByteLevel}: printable Latin-1
     * bytes stand for themselves, the rest take U+0100, U+0101, ... in byte order.
     */
    private static String byteChar(int b) {
        int next = 256;
        for (int x = 0; x < 256; x++) {
            boolean printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
            if (x == b) {
                return String.valueOf((char) (printable ? x : next));
            }
            if (!printable) {
                next++;
            }
        }
        throw new IllegalArgumentException();
    }

    /**
     * A vocabulary laid out as Hugging Face's trainer does it: the special token first (id 0), then the 256 byte
     * characters sorted by character, then the merged tokens.
     */
    private static Map<String, Integer> handVocab(String... merged) {
        TreeMap<String, Integer> sorted = new TreeMap<>();
        for (int b = 0; b < 256; b++) {
            sorted.put(byteChar(b), 0);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<|endoftext|>", 0);
        for (String c : sorted.keySet()) {
            vocab.put(c, vocab.size());
        }
        for (String m : merged) {
            vocab.put(m, vocab.size());
        }
        return vocab;
    }

    private Path handFile(String name, Map<String, Integer> vocab, Object merges) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", JSON.readTree("[{\"id\":0,\"content\":\"<|endoftext|>\",\"single_word\":false,"
                + "\"lstrip\":false,\"rstrip\":false,\"normalized\":true,\"special\":true}]"));
        root.putNull("normalizer");
        root.set("pre_tokenizer", JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                + "\"trim_offsets\":true,\"use_regex\":true}"));
        root.set("post_processor", JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                + "\"trim_offsets\":false,\"use_regex\":true}"));
        root.set("decoder", JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                + "\"trim_offsets\":true,\"use_regex\":true}"));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", ""); // as in GPT-2's own file
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.set("vocab", JSON.valueToTree(vocab));
        model.set("merges", JSON.valueToTree(merges));
        Path file = dir.resolve(name);
        Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        return file;
    }

    private static int[] ids(Map<String, Integer> vocab, String... tokens) {
        int[] out = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = vocab.get(tokens[i]);
        }
        return out;
    }

    @Test
    void loadsAHandWrittenFileInBothMergeFormats() throws IOException {
        Map<String, Integer> vocab = handVocab("Ġt", "he", "Ġthe", "Ġthen");
        List<List<String>> arrays = List.of(List.of("Ġ", "t"), List.of("h", "e"), List.of("Ġt", "he"),
                List.of("Ġthe", "n"));
        List<String> strings = List.of("Ġ t", "h e", "Ġt he", "Ġthe n");
        for (Path file : new Path[] {handFile("arrays.json", vocab, arrays), handFile("strings.json", vocab, strings)}) {
            Tokenizer t = factory.load(file);
            assertEquals(0, t.eosId());
            assertEquals(261, t.vocabSize());
            // " the" -> Ġ t h e -> (Ġ,t) rank 0 -> Ġt h e -> (h,e) rank 1 -> Ġt he -> rank 2 -> Ġthe
            assertArrayEquals(ids(vocab, "Ġthe"), t.encode(" the"));
            // "the then there": pieces "the", " then", " there"
            // "the": t h e -> (h,e) -> t he (no merge "t he")
            // " then": ... Ġthe n -> rank 3 -> Ġthen
            // " there": Ġthe r e (no merge for (Ġthe, r))
            assertArrayEquals(ids(vocab, "t", "he", "Ġthen", "Ġthe", "r", "e"), t.encode("the then there"));
            // Bytes outside ASCII use the table: "é" is C3 A9 -> "Ã" "©"; "\n" -> "Ċ".
            assertArrayEquals(ids(vocab, "Ã", "©", "Ċ"), t.encode("é\n"));
            assertEquals("the then there é\n", t.decode(t.encode("the then there é\n")));
        }
    }

    @Test
    void mergeRankDecidesBetweenOverlappingPairs() throws IOException {
        Map<String, Integer> vocab = handVocab("he", "en");
        Tokenizer heFirst = factory.load(handFile("he.json", vocab, List.of("h e", "e n")));
        Tokenizer enFirst = factory.load(handFile("en.json", vocab, List.of("e n", "h e")));
        assertArrayEquals(ids(vocab, "he", "n"), heFirst.encode("hen"));
        assertArrayEquals(ids(vocab, "h", "en"), enFirst.encode("hen"));
        // Equal pairs merge leftmost first: "eee" with (e,e) gives "ee" "e".
        Map<String, Integer> v2 = handVocab("ee");
        assertArrayEquals(ids(v2, "ee", "e"), factory.load(handFile("ee.json", v2, List.of("e e"))).encode("eee"));
    }

    // ------------------------------------------------------------------ bad files

    private Path writeGood() throws IOException {
        return handFile("good.json", handVocab("he"), List.of("h e"));
    }

    private Path edit(String name, java.util.function.Consumer<ObjectNode> change) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(writeGood().toFile());
        change.accept(root);
        Path file = dir.resolve(name);
        Files.write(file, JSON.writeValueAsBytes(root));
        return file;
    }

    private String loadError(Path file) {
        return assertThrows(IOException.class, () -> factory.load(file)).getMessage();
    }

    @Test
    void badFilesNameTheFileAndTheField() throws IOException {
        Path p = edit("wp.json", r -> ((ObjectNode) r.get("model")).put("type", "WordPiece"));
        assertEquals(p + ": field \"model.type\": expected \"BPE\", got \"WordPiece\"; align4j's bpe tokenizer reads"
                + " byte-level BPE files only (as GPT-2's tokenizer.json)", loadError(p));

        p = edit("norm.json", r -> r.set("normalizer", JSON.createObjectNode().put("type", "NFC")));
        assertTrue(loadError(p).startsWith(p + ": field \"normalizer\": expected null, got an object of type"
                + " \"NFC\";"), loadError(p));

        p = edit("meta.json", r -> ((ObjectNode) r.get("pre_tokenizer")).put("type", "Metaspace"));
        assertTrue(loadError(p).startsWith(p + ": field \"pre_tokenizer.type\": expected \"ByteLevel\", got"
                + " \"Metaspace\";"), loadError(p));

        p = edit("prefix.json", r -> ((ObjectNode) r.get("pre_tokenizer")).put("add_prefix_space", true));
        assertTrue(loadError(p).startsWith(p + ": field \"pre_tokenizer.add_prefix_space\": expected false, got"
                + " true;"), loadError(p));

        p = edit("template.json", r -> r.set("post_processor",
                JSON.createObjectNode().put("type", "TemplateProcessing")));
        assertTrue(loadError(p).startsWith(p + ": field \"post_processor.type\": expected \"ByteLevel\" or null,"
                + " got \"TemplateProcessing\";"), loadError(p));

        p = edit("nobyte.json", r -> ((ObjectNode) r.get("model").get("vocab")).remove("Ċ"));
        assertEquals(p + ": field \"model.vocab\": no token for byte 0x0A (\"Ċ\"); a byte-level BPE vocabulary holds"
                + " all 256 byte tokens", loadError(p));

        p = edit("badid.json", r -> ((ObjectNode) r.get("model").get("vocab")).put("he", "x"));
        assertEquals(p + ": field \"model.vocab[\"he\"]\": expected a token id (a whole number in [0, 16777215]),"
                + " got \"x\"", loadError(p));

        p = edit("dupid.json", r -> ((ObjectNode) r.get("model").get("vocab")).put("he", 5));
        assertTrue(loadError(p).contains("id 5 is already used by"), loadError(p));

        p = edit("foreign.json", r -> ((ObjectNode) r.get("model").get("vocab")).put("a b", 300));
        assertTrue(loadError(p).startsWith(p + ": field \"model.vocab[\"a b\"]\": \"a b\" is not a byte-level token:"
                + " its character U+0020 is outside GPT-2's byte alphabet"), loadError(p));

        p = edit("merge.json", r -> ((ArrayNode) r.get("model").get("merges")).add("x yz"));
        assertEquals(p + ": field \"model.merges[1]\": token \"yz\" is not in model.vocab (as a byte-level token)",
                loadError(p));

        p = edit("merged.json", r -> ((ArrayNode) r.get("model").get("merges")).add("a b"));
        assertEquals(p + ": field \"model.merges[1]\": the merged token \"ab\" is not in model.vocab",
                loadError(p));

        p = edit("mergeform.json", r -> ((ArrayNode) r.get("model").get("merges")).add("a b c"));
        assertEquals(p + ": field \"model.merges[1]\": expected \"left right\" (two tokens and one space), got"
                + " \"a b c\"", loadError(p));

        p = edit("nospecial.json", r -> r.set("added_tokens", JSON.createArrayNode()));
        assertTrue(loadError(p).startsWith(p + ": field \"added_tokens\": no special token;"), loadError(p));

        p = edit("notspecial.json", r -> ((ObjectNode) r.get("added_tokens").get(0)).put("special", false));
        assertTrue(loadError(p).startsWith(p + ": field \"added_tokens[0].special\": expected true, got false;"),
                loadError(p));

        p = edit("nomodel.json", r -> r.remove("model"));
        assertTrue(loadError(p).startsWith(p + ": field \"model\": expected an object, got nothing (missing);"),
                loadError(p));
    }

    @Test
    void syntaxErrorsGiveLineAndColumn() throws IOException {
        Path p = dir.resolve("broken.json");
        Files.writeString(p, "{\n  \"version\": \"1.0\",\n  \"model\": {,\n}\n");
        String m = loadError(p);
        assertTrue(m.startsWith(p + ":3:13: invalid JSON: Unexpected character (','"), m);
        // Columns count characters, not UTF-8 bytes ('Ġ' is two bytes).
        Path wide = dir.resolve("wide.json");
        Files.writeString(wide, "{\"Ġ\": ,}");
        assertTrue(loadError(wide).startsWith(wide + ":1:7: invalid JSON: Unexpected character (','"),
                loadError(wide));
        Path latin1 = dir.resolve("latin1.json");
        Files.write(latin1, new byte[] {'{', '"', (byte) 0xE9, '"', ':', '1', '}'});
        assertEquals(latin1 + ":1:3: not UTF-8: the byte E9 at byte offset 2 does not form a UTF-8 character (was the"
                + " file saved as Latin-1 or Windows-1252?); a tokenizer.json is UTF-8 JSON: re-save the file as UTF-8",
                loadError(latin1));

        Path dup = dir.resolve("dup.json");
        Files.writeString(dup, "{\"model\": {}, \"model\": {}}");
        assertTrue(loadError(dup).startsWith(dup + ":1:"), loadError(dup));
        assertTrue(loadError(dup).contains(": duplicate key \"model\" in the top-level object"), loadError(dup));

        Path array = dir.resolve("array.json");
        Files.writeString(array, "[1, 2]");
        assertEquals(array + ": expected a JSON object at the top level, got an array; expected a Hugging Face"
                + " tokenizer.json", loadError(array));

        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "");
        assertEquals(empty + ": empty file; expected a Hugging Face tokenizer.json", loadError(empty));
    }

    @Test
    void missingFileSaysWhereItLooked() {
        Path p = dir.resolve("nope/tokenizer.json");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> factory.load(p));
        assertEquals(p + ": no such file (working directory: " + Path.of("").toAbsolutePath() + ")", e.getMessage());
    }

    @Test
    void handVocabularyIsComplete() {
        Map<String, Integer> v = handVocab();
        assertEquals(257, v.size());
        Iterator<String> it = v.keySet().iterator();
        assertEquals("<|endoftext|>", it.next());
        assertEquals("!", it.next()); // the smallest byte character
    }
}
