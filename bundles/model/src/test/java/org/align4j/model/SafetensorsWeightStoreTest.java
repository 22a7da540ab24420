package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.WeightStore.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Safetensors and config.json files, written and read for real in a temporary directory. */
class SafetensorsWeightStoreTest {

    @TempDir
    Path dir;

    private final SafetensorsWeightStore store = new SafetensorsWeightStore();

    static Map<String, TensorData> sample() {
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("policy.tok_emb.weight", new TensorData(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, -0f, 1e-30f}));
        t.put("b", new TensorData(new long[] {4},
                new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE}));
        t.put("scalar", new TensorData(new long[0], new float[] {42}));
        t.put("empty", new TensorData(new long[] {0, 5}, new float[0]));
        return t;
    }

    private static void assertSameTensors(Map<String, TensorData> want, Map<String, TensorData> got) {
        assertEquals(want.keySet(), got.keySet());
        want.forEach((name, t) -> {
            assertArrayEquals(t.shape(), got.get(name).shape(), name);
            float[] a = t.values();
            float[] b = got.get(name).values();
            assertEquals(a.length, b.length, name);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), name + "[" + i + "]");
            }
        });
    }

    @Test
    void roundTripKeepsEveryBitAndTheMetadata() throws IOException {
        Path file = dir.resolve("model.safetensors");
        store.save(file, sample(), Map.of("format", "pt", "step", "3"));
        Weights w = store.load(file);
        assertSameTensors(sample(), w.tensors());
        assertEquals(Map.of("format", "pt", "step", "3"), w.metadata());

        byte[] bytes = Files.readAllBytes(file);
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (bytes[i] & 0xff);
        }
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\",\"step\":\"3\"}"), header);
        JsonNode root = new ObjectMapper().readTree(header);
        List<String> order = Stream.iterate(root.fieldNames(), Iterator::hasNext, it -> it).map(Iterator::next)
                .toList();
        assertEquals(List.of("__metadata__", "b", "empty", "policy.tok_emb.weight", "scalar"), order);
        assertEquals("[0,16]", root.get("b").get("data_offsets").toString());
        assertEquals("[16,16]", root.get("empty").get("data_offsets").toString());
        assertEquals("[]", root.get("scalar").get("shape").toString());
        assertEquals(8 + n + 4 * (4 + 6 + 1), bytes.length);

        // overwrite: the new content replaces the old, and no temporary file is left behind
        store.save(file, Map.of("x", new TensorData(new long[] {1}, new float[] {7})), Map.of());
        Weights again = store.load(file);
        assertEquals(Map.of(), again.metadata());
        assertEquals(7f, again.tensors().get("x").values()[0]);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    /** A header and data assembled here byte by byte, little-endian by hand. */
    static byte[] file(String header, float... data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, data);
    }

    static byte[] file(long headerLength, byte[] header, float... data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) {
            out.write((int) (headerLength >>> (8 * i)) & 0xff);
        }
        out.writeBytes(header);
        for (float f : data) {
            int bits = Float.floatToRawIntBits(f);
            for (int i = 0; i < 4; i++) {
                out.write((bits >>> (8 * i)) & 0xff);
            }
        }
        return out.toByteArray();
    }

    @Test
    void readsAHandAssembledFile() throws IOException {
        // data order differs from name order, no padding, metadata last: all legal
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"__metadata__\":{\"source\":\"hand\"}}";
        Path file = dir.resolve("hand.safetensors");
        Files.write(file, file(header, 0.5f, -1.25f, 1, 2, 3, 4));
        Weights w = store.load(file);
        assertEquals(Map.of("source", "hand"), w.metadata());
        assertArrayEquals(new long[] {2}, w.tensors().get("a").shape());
        assertArrayEquals(new float[] {0.5f, -1.25f}, w.tensors().get("a").values());
        assertArrayEquals(new long[] {2, 2}, w.tensors().get("w").shape());
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.tensors().get("w").values());
    }

    private void assertBad(byte[] content, String... expected) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, content);
        IOException e = assertThrows(IOException.class, () -> store.load(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        }
    }

    @Test
    void truncatedAndCorruptFilesGiveClearErrors() throws IOException {
        Path good = dir.resolve("good.safetensors");
        store.save(good, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(good);

        assertBad(Arrays.copyOf(bytes, bytes.length - 3), "truncated", "tensor \"scalar\"");
        assertBad(Arrays.copyOf(bytes, 5), "truncated", "5 bytes");
        assertBad(Arrays.copyOf(bytes, 40), "truncated", "the header length says");
        assertBad(file(1L << 40, new byte[0]), "header length 1099511627776");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 1f), "not valid JSON");
        assertBad(file("[1, 2]", 1f), "does not start with '{'");
        assertBad(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 1f),
                "tensor \"a\"", "dtype BF16 is not supported", "F32 only");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 1f, 2f),
                "tensor \"b\"", "overlapping");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 1f, 2f),
                "tensor \"a\"", "a hole");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 1f, 2f),
                "tensor \"a\"", "takes 12 bytes", "span 8");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 1f, 2f),
                "trailing bytes");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 1f),
                "tensor \"a\"", "\"shape\" must be an array of non-negative integers");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 1f), "Duplicate field 'a'");
        assertBad(file("{\"__metadata__\":{\"step\":3}}"), "metadata \"step\": expected a string");
    }

    /** Offsets past the end of a data section that is as long as the shapes need: the header is wrong. */
    @Test
    void offsetsOutsideTheDataSectionAreBadOffsetsOfTheNamedTensor() throws IOException {
        Path file = dir.resolve("offsets.safetensors");
        Files.write(file, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 1f, 2f));
        IOException e = assertThrows(IOException.class, () -> store.load(file));
        assertEquals(file + ": tensor \"b\": bad data_offsets [12, 16]: they lie outside the data section, which"
                + " holds 8 bytes (as many as the tensors' shapes need: the header's offsets are wrong, not the"
                + " file's length)", e.getMessage());
        assertTrue(!e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(!e.getMessage().contains("Exception") && !e.getMessage().contains("\tat "), e.getMessage());
    }

    @Test
    void unknownKeysAreWarnedAboutNamingTheFileAndTheKey() throws IOException {
        Path file = dir.resolve("extra.safetensors");
        Files.write(file, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
                + "\"layout\":\"row\"},\"__format__\":\"pt\",\"__metadata__\":{\"k\":\"v\"}}", 1f, 2f));
        Weights w = store.load(file);
        assertArrayEquals(new float[] {1f, 2f}, w.tensors().get("a").values());
        assertEquals(Map.of("k", "v"), w.metadata());
        assertEquals(List.of(
                file + ": tensor \"a\": unknown key \"layout\" ignored (known: dtype, shape, data_offsets)",
                file + ": unknown top-level key \"__format__\" ignored (a safetensors header holds tensors and"
                        + " \"__metadata__\")"), w.warnings());

        Path clean = dir.resolve("clean.safetensors");
        store.save(clean, sample(), Map.of("x", "y"));
        assertEquals(List.of(), store.load(clean).warnings());
    }

    @Test
    void configRoundTripsWithTheSnakeCaseKeys() throws IOException {
        ModelConfig c = ModelConfig.builder().vocabSize(300).layers(3).dModel(48).heads(6).ffn(100).context(64)
                .norm(ModelConfig.NormPlacement.POST).normType(ModelConfig.NormType.RMSNORM)
                .positions(ModelConfig.Positions.SINUSOIDAL).tieEmbeddings(false).attention("gqa")
                .normEps(1e-6f).initStd(0.015f).build();
        Path file = dir.resolve("config.json");
        store.saveConfig(file, c);
        assertEquals(c, store.loadConfig(file));
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertEquals("align4j-decoder", root.get("model_type").textValue());
        assertEquals("post", root.get("norm").textValue());
        assertEquals("rmsnorm", root.get("norm_type").textValue());
        assertEquals("sinusoidal", root.get("positions").textValue());
        assertEquals(48, root.get("d_model").intValue());
        assertEquals(100, root.get("ffn").intValue());
        assertEquals(false, root.get("tie_embeddings").booleanValue());
        assertEquals(14, root.size());
    }

    @Test
    void configKeepsClassesAndReadsAFileWithoutItAsNone() throws IOException {
        Path file = dir.resolve("config.json");
        ModelConfig none = ModelConfig.builder().vocabSize(50).layers(2).dModel(32).heads(2).build();
        ModelConfig three = none.toBuilder().classes(3).build();
        assertEquals(3, savedOnlyWhenSet(file, none, three, "classes").intValue());
        assertEquals(0, store.loadConfig(file.resolveSibling("without.json")).classes());

        String old = "{\"model_type\": \"align4j-decoder\", \"vocab_size\": 50, \"layers\": 2, \"d_model\": 32,"
                + " \"heads\": 2, \"ffn\": 128, \"context\": 128, \"norm\": \"pre\", \"norm_type\": \"layernorm\","
                + " \"positions\": \"learned\", \"tie_embeddings\": true, \"attention\": \"mha\", \"norm_eps\": 1e-5,"
                + " \"init_std\": 0.02}"; // a config.json of a release without the key
        Files.writeString(file, old);
        assertEquals(none, store.loadConfig(file));

        store.saveConfig(file, three);
        String good = Files.readString(file);
        assertBadConfig(good.replace("\"classes\" : 3", "\"classes\" : -2"), "model.classes: must be >= 0");
        assertBadConfig(good.replace("\"classes\" : 3", "\"classes\" : \"three\""),
                "\"classes\": expected an integer");
        assertBadConfig(good.replace("\"classes\"", "\"num_labels\""), "unknown key \"num_labels\"", "classes");
    }

    @Test
    void configKeepsKeyValueHeadsOnlyWhenSharedAndReadsAFileWithoutThemAsMultiHead() throws IOException {
        Path file = dir.resolve("config.json");
        ModelConfig mha = ModelConfig.builder().vocabSize(50).layers(2).dModel(32).heads(4).build();
        assertEquals(4, mha.kvHeads());
        ModelConfig gqa = mha.toBuilder().kvHeads(2).build();
        assertEquals(2, savedOnlyWhenSet(file, mha, gqa, "kv_heads").intValue());
        assertEquals(4, store.loadConfig(file.resolveSibling("without.json")).kvHeads());
        assertEquals(1, store.loadConfig(file).toBuilder().kvHeads(1).build().kvHeads());

        String good = Files.readString(file);
        assertBadConfig(good.replace("\"kv_heads\" : 2", "\"kv_heads\" : 3"), "model.kv_heads: must divide heads (4)");
        assertBadConfig(good.replace("\"kv_heads\" : 2", "\"kv_heads\" : 8"), "model.kv_heads: must divide heads (4)");
        assertBadConfig(good.replace("\"kv_heads\" : 2", "\"kv_heads\" : 0"),
                "\"kv_heads\": expected an integer above 0");
        assertBadConfig(good.replace("\"kv_heads\"", "\"num_key_value_heads\""),
                "unknown key \"num_key_value_heads\"");
        // two layers, each with k and v of [32, 16] + [16] instead of [32, 32] + [32]
        assertEquals(mha.parameterCount() - 2L * 2 * (32 * 16 + 16), gqa.parameterCount());
    }

    @Test
    void configKeepsTheBf16PrecisionOnlyWhenSet() throws IOException {
        Path file = dir.resolve("config.json");
        ModelConfig fp32 = ModelConfig.builder().vocabSize(50).layers(2).dModel(32).heads(2).build();
        ModelConfig bf16 = fp32.toBuilder().precision(ModelConfig.Precision.BF16).build();
        assertEquals("bf16", savedOnlyWhenSet(file, fp32, bf16, "precision").textValue());
        assertEquals(ModelConfig.Precision.FP32, store.loadConfig(file.resolveSibling("without.json")).precision());
        assertBadConfig(Files.readString(file).replace("\"bf16\"", "\"fp8\""), "precision", "fp8");
    }

    @Test
    void configKeepsRopeBaseWithRotaryPositionsAndTheWindowWhenSet() throws IOException {
        Path file = dir.resolve("config.json");
        ModelConfig rope = ModelConfig.builder().vocabSize(50).layers(2).dModel(32).heads(2)
                .positions(ModelConfig.Positions.ROPE).ropeBase(500).window(8).build();
        store.saveConfig(file, rope);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertEquals("rope", root.get("positions").textValue());
        assertEquals(500.0, root.get("rope_base").doubleValue());
        assertEquals(8, root.get("window").intValue());
        assertEquals(16, root.size());
        assertEquals(rope, store.loadConfig(file));

        ModelConfig alibi = rope.toBuilder().positions(ModelConfig.Positions.ALIBI).window(0).build();
        store.saveConfig(file, alibi);
        root = new ObjectMapper().readTree(file.toFile());
        assertTrue(!root.has("rope_base") && !root.has("window") && root.size() == 14, root.toString());
        assertEquals(alibi, store.loadConfig(file));
        String good = Files.readString(file);
        assertBadConfig(good.replace("\"alibi\"", "\"relative\""), "positions",
                "expected one of learned, sinusoidal, rope, alibi");
        assertBadConfig(good.replace("\"alibi\"", "\"alibi\", \"window\" : 0"),
                "\"window\": expected an integer above 0");
    }

    @Test
    void configKeepsScoreLikelihoodOnlyWhenTrue() throws IOException {
        Path file = dir.resolve("config.json");
        ModelConfig plain = ModelConfig.builder().vocabSize(50).layers(2).dModel(32).heads(2).build();
        store.saveConfig(file, plain);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertTrue(!root.has("score_likelihood"), "written as before the key existed: " + root);
        assertEquals(false, store.loadConfig(file).scoreLikelihood());

        ModelConfig scored = plain.toBuilder().scoreLikelihood(true).build();
        assertNotEquals(plain, scored);
        store.saveConfig(file, scored);
        root = new ObjectMapper().readTree(file.toFile());
        assertEquals(true, root.get("score_likelihood").booleanValue());
        assertEquals(15, root.size());
        assertEquals(scored, store.loadConfig(file));
        String good = Files.readString(file);
        assertBadConfig(good.replace("\"score_likelihood\" : true", "\"score_likelihood\" : \"yes\""),
                "score_likelihood");
        assertTrue(!root.has("likelihood_reference"), root.toString());

        ModelConfig referenced = scored.toBuilder().likelihoodReference(true).build();
        assertNotEquals(scored, referenced);
        store.saveConfig(file, referenced);
        root = new ObjectMapper().readTree(file.toFile());
        assertEquals(true, root.get("likelihood_reference").booleanValue());
        assertEquals(referenced, store.loadConfig(file));
        good = Files.readString(file);
        assertBadConfig(good.replace("\"score_likelihood\" : true,", ""), "likelihood_reference",
                "needs score_likelihood");

        ModelConfig credited = referenced.toBuilder().classes(1).stepCredit(true).build();
        store.saveConfig(file, credited);
        root = new ObjectMapper().readTree(file.toFile());
        assertEquals(true, root.get("step_credit").booleanValue());
        assertEquals(credited, store.loadConfig(file));
        assertBadConfig(Files.readString(file).replace("\"classes\" : 1,", ""), "step_credit",
                "needs classes > 0");
    }

    private void assertBadConfig(String json, String... expected) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        IOException e = assertThrows(IOException.class, () -> store.loadConfig(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        }
    }

    @Test
    void badConfigsNameTheFileAndTheKey() throws IOException {
        Path file = dir.resolve("config.json");
        store.saveConfig(file, ModelConfig.builder().vocabSize(10).build());
        String good = Files.readString(file);
        assertBadConfig(good.replace("\"layers\" : 4", "\"layers\" : \"four\""), "\"layers\": expected an integer");
        assertBadConfig(good.replace("\"heads\" : 4", "\"heads\" : 3"), "model.heads", "must divide d_model");
        assertBadConfig(good.replace("\"norm\" : \"pre\"", "\"norm\" : \"middle\""),
                "\"norm\": expected one of pre, post, got \"middle\"");
        assertBadConfig(good.replace("\"align4j-decoder\"", "\"gpt2\""), "model_type is \"gpt2\"");
        assertBadConfig(good.replace("\"ffn\"", "\"n_inner\""), "unknown key \"n_inner\"");
        assertBadConfig(good.replace("\"context\" : 128,", ""), "missing key \"context\"");
        assertBadConfig("{\"layers\": ", "not valid JSON", "line 1");
    }

    /**
     * Saves {@code without} next to {@code file} as {@code without.json}, where {@code key} must be absent (the 14
     * keys of a file written before it existed), then {@code with} as {@code file}, where it is the 15th; both load
     * back equal. Returns the key's value in {@code file}.
     */
    private JsonNode savedOnlyWhenSet(Path file, ModelConfig without, ModelConfig with, String key)
            throws IOException {
        Path old = file.resolveSibling("without.json");
        store.saveConfig(old, without);
        JsonNode root = new ObjectMapper().readTree(old.toFile());
        assertTrue(!root.has(key) && root.size() == 14, "written as before " + key + " existed: " + root);
        assertEquals(without, store.loadConfig(old));
        store.saveConfig(file, with);
        root = new ObjectMapper().readTree(file.toFile());
        assertTrue(root.has(key), key + " written: " + root);
        assertEquals(15, root.size());
        assertEquals(with, store.loadConfig(file));
        return root.get(key);
    }
}
