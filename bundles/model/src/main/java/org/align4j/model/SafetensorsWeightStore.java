package org.align4j.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.WeightStore;
import org.osgi.service.component.annotations.Component;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Weights as <a href="https://github.com/huggingface/safetensors">safetensors</a> and model shapes as
 * {@code config.json}.
 *
 * <p>File layout: an unsigned 64-bit little-endian header length {@code N}; {@code N} bytes of UTF-8 JSON,
 * {@code {"__metadata__": {string: string}, name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}}},
 * padded with spaces so the data starts 8-byte aligned; then the data, little-endian and row-major, offsets relative
 * to the end of the header. Tensors are written in name order and cover the data section exactly, as Hugging Face's
 * library requires; loading checks the same (no overlap, no hole, no trailing bytes) and reads F32 only.
 *
 * <p>{@code config.json} holds the pipeline's {@code model:} keys (see {@link ModelConfig}) plus
 * {@code "model_type": "align4j-decoder"}, {@code "kv_heads"} when the model shares key/value heads (fewer than
 * {@code heads}), {@code "rope_base"} with rotary positions, {@code "window"} with sliding-window attention,
 * {@code "classes"} when the model has a classification head and
 * {@code "score_likelihood": true} when a reward model's score adds its mean log-probability of the completion,
 * {@code "likelihood_reference": true} when that is a frozen reference's, {@code "step_credit": true} when an outcome
 * model is scored by its steps, {@code "precision": "bf16"} for a model that multiplies in bfloat16; loading
 * requires every other key, reads a missing {@code kv_heads} as {@code heads}, a missing {@code classes} as 0, a
 * missing {@code score_likelihood}, {@code likelihood_reference} or {@code step_credit} as false and a missing
 * {@code precision} as fp32 (files written before they existed), and rejects unknown keys, naming the file.
 */
@Component(service = WeightStore.class)
public final class SafetensorsWeightStore implements WeightStore {

    /** {@code config.json}'s {@code model_type}. */
    static final String MODEL_TYPE = "align4j-decoder";
    private static final String METADATA = "__metadata__";
    /** Hugging Face's limit on the header size. */
    private static final long MAX_HEADER = 100_000_000L;
    private static final int CHUNK_FLOATS = 1 << 18;
    private static final List<String> CONFIG_KEYS = List.of("vocab_size", "layers", "d_model", "heads", "ffn",
            "context", "norm", "norm_type", "positions", "tie_embeddings", "attention", "norm_eps", "init_std");
    /**
     * Keys {@code config.json} may leave out: {@code kv_heads} (absent: as many as {@code heads}), {@code rope_base}
     * (written with {@code positions: rope} only; absent: 10000), {@code window} (absent: 0, none), {@code classes}
     * (absent: 0, no classification head) and
     * {@code score_likelihood}, {@code likelihood_reference} and {@code step_credit} (absent: false), and
     * {@code precision} (absent: fp32).
     */
    private static final List<String> OPTIONAL_CONFIG_KEYS = List.of("kv_heads", "rope_base", "window", "classes",
            "score_likelihood", "likelihood_reference", "step_credit", "precision");

    /** The keys of a tensor's header entry. */
    private static final List<String> ENTRY_KEYS = List.of("dtype", "shape", "data_offsets");
    private final ObjectMapper json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    @Override
    public void save(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException {
        TreeMap<String, TensorData> sorted = new TreeMap<>(tensors);
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA);
            new TreeMap<>(metadata).forEach((k, v) -> m.put(k, java.util.Objects.requireNonNull(v,
                    () -> file + ": metadata \"" + k + "\" is null; safetensors metadata values are strings")));
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : sorted.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().equals(METADATA)) {
                throw new IllegalArgumentException(file + ": \"" + e.getKey() + "\" cannot name a tensor");
            }
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            ArrayNode offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offset += 4L * e.getValue().size();
            offsets.add(offset);
        }
        byte[] text = json.writeValueAsBytes(header);
        int padded = (text.length + 7) / 8 * 8;
        AtomicFiles.write(file, channel -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(text);
            while (head.hasRemaining()) {
                head.put((byte) ' ');
            }
            head.flip();
            AtomicFiles.writeFully(channel, head);
            ByteBuffer bytes = ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer floats = bytes.asFloatBuffer();
            for (TensorData t : sorted.values()) {
                float[] v = t.values();
                for (int i = 0; i < v.length; i += CHUNK_FLOATS) {
                    int n = Math.min(CHUNK_FLOATS, v.length - i);
                    floats.clear();
                    floats.put(v, i, n);
                    bytes.clear().limit(4 * n);
                    AtomicFiles.writeFully(channel, bytes);
                }
            }
        });
    }

    /** A tensor's entry in the header, checked. */
    private static final class Entry {
        final String name;
        final long[] shape;
        final long begin;
        final long end;

        Entry(String name, long[] shape, long begin, long end) {
            this.name = name;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }
    }

    @Override
    public Weights load(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw bad(file, "truncated: the file has " + size + " bytes, but a safetensors file starts with an"
                        + " 8-byte header length");
            }
            ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthField, 0, file);
            long n = lengthField.getLong(0);
            if (n < 2 || n > MAX_HEADER) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " is outside 2.." + MAX_HEADER
                        + ": not a safetensors file, or a corrupt one");
            }
            if (8 + n > size) {
                throw bad(file, "truncated: the header length says " + n + " bytes, but only " + (size - 8)
                        + " follow it");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(channel, headerBytes, 8, file);
            long dataStart = 8 + n;
            long dataLength = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<String> warnings = new ArrayList<>();
            List<Entry> entries = parseHeader(file, headerBytes.array(), dataLength, metadata, warnings);

            Map<String, TensorData> tensors = new LinkedHashMap<>();
            ByteBuffer bytes = ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer floats = bytes.asFloatBuffer();
            for (Entry e : entries) {
                float[] values = new float[(int) ((e.end - e.begin) / 4)];
                for (int i = 0; i < values.length; i += CHUNK_FLOATS) {
                    int count = Math.min(CHUNK_FLOATS, values.length - i);
                    bytes.clear().limit(4 * count);
                    readFully(channel, bytes, dataStart + e.begin + 4L * i, file);
                    floats.clear();
                    floats.get(values, i, count);
                }
                tensors.put(e.name, new TensorData(e.shape, values));
            }
            return new Weights(tensors, metadata, warnings);
        }
    }

    /**
     * Parses and checks the header; fills {@code metadata} and {@code warnings} (unknown keys, which are ignored);
     * returns the tensors by data offset.
     */
    private List<Entry> parseHeader(Path file, byte[] header, long dataLength, Map<String, String> metadata,
            List<String> warnings) throws IOException {
        if (header[0] != '{') {
            throw bad(file, "the header does not start with '{': not a safetensors file, or a corrupt one");
        }
        JsonNode root;
        try {
            root = json.readTree(header);
        } catch (JsonProcessingException e) {
            throw bad(file, "the header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "the header is not a JSON object");
        }
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA)) {
                if (node.isNull()) {
                    continue;
                }
                if (!node.isObject()) {
                    throw bad(file, "\"__metadata__\" must be an object of strings, got " + node.getNodeType());
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = node.fields(); m.hasNext();) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw bad(file, "metadata \"" + kv.getKey() + "\": expected a string, got " + kv.getValue());
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            if (name.length() > 4 && name.startsWith("__") && name.endsWith("__")) {
                warnings.add(file + ": unknown top-level key \"" + name + "\" ignored (a safetensors header holds"
                        + " tensors and \"__metadata__\")");
                continue;
            }
            entries.add(parseEntry(file, name, node, warnings));
        }
        long declared = 0; // the bytes the shapes need in all
        for (Entry e : entries) {
            declared += e.end - e.begin;
        }
        for (Entry e : entries) {
            if (e.end > dataLength) {
                if (declared > dataLength) { // the shapes need more than there is: the file was cut short
                    throw bad(file, "truncated: tensor \"" + e.name + "\" needs bytes " + e.begin + ".." + e.end
                            + " of the data section, but the file holds only " + dataLength + " bytes of data (the"
                            + " tensors' shapes need " + declared + ")");
                }
                throw bad(file, "tensor \"" + e.name + "\": bad data_offsets [" + e.begin + ", " + e.end + "]: they"
                        + " lie outside the data section, which holds " + dataLength + " bytes (as many as the"
                        + " tensors' shapes need: the header's offsets are wrong, not the file's length)");
            }
        }
        entries.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
        long expected = 0;
        String previous = null;
        for (Entry e : entries) {
            if (e.begin < expected) {
                throw bad(file, "tensor \"" + e.name + "\" starts at byte " + e.begin + " of the data, inside tensor \""
                        + previous + "\" which ends at " + expected + " (overlapping data_offsets)");
            }
            if (e.begin > expected) {
                throw bad(file, "tensor \"" + e.name + "\" starts at byte " + e.begin + " of the data, but "
                        + (previous == null ? "the data starts at 0" : "tensor \"" + previous + "\" ends at "
                                + expected) + " (a hole in data_offsets)");
            }
            expected = e.end;
            previous = e.name;
        }
        if (expected != dataLength) {
            throw bad(file, "the data section holds " + dataLength + " bytes but the tensors cover " + expected
                    + " (trailing bytes after the last tensor)");
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, List<String> warnings)
            throws IOException {
        String where = "tensor \"" + name + "\"";
        if (!node.isObject()) {
            throw bad(file, where + ": expected {\"dtype\", \"shape\", \"data_offsets\"}, got " + node);
        }
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext();) {
            String key = keys.next();
            if (!ENTRY_KEYS.contains(key)) {
                warnings.add(file + ": " + where + ": unknown key \"" + key + "\" ignored (known: "
                        + String.join(", ", ENTRY_KEYS) + ")");
            }
        }
        JsonNode dtype = node.get("dtype");
        if (dtype == null || !dtype.isTextual()) {
            throw bad(file, where + ": missing \"dtype\"");
        }
        if (!dtype.textValue().equals("F32")) {
            throw bad(file, where + ": dtype " + dtype.textValue() + " is not supported; align4j reads F32 only"
                    + " (convert the file first, e.g. with safetensors in Python: {k: v.float() for k, v in ...})");
        }
        long[] shape = longs(file, where, "shape", node.get("shape"), -1);
        long[] offsets = longs(file, where, "data_offsets", node.get("data_offsets"), 2);
        long count = 1;
        try {
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            Math.multiplyExact(count, 4L);
        } catch (ArithmeticException e) {
            throw bad(file, where + ": shape " + Arrays.toString(shape) + " overflows");
        }
        if (offsets[0] > offsets[1]) {
            throw bad(file, where + ": data_offsets " + Arrays.toString(offsets) + " end before they begin");
        }
        if (offsets[1] - offsets[0] != 4 * count) {
            throw bad(file, where + ": shape " + Arrays.toString(shape) + " in F32 takes " + 4 * count
                    + " bytes, but data_offsets " + Arrays.toString(offsets) + " span " + (offsets[1] - offsets[0]));
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw bad(file, where + ": " + count + " values do not fit in one Java array");
        }
        return new Entry(name, shape, offsets[0], offsets[1]);
    }

    /** An array of non-negative integers ({@code length} of them unless -1). */
    private static long[] longs(Path file, String where, String key, JsonNode node, int length) throws IOException {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw bad(file, where + ": \"" + key + "\" must be an array of " + (length >= 0 ? length + " " : "")
                    + "non-negative integers, got " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = node.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() < 0) {
                throw bad(file, where + ": \"" + key + "\" must be an array of non-negative integers, got " + node);
            }
            out[i] = x.longValue();
        }
        return out;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file)
            throws IOException {
        long p = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, p);
            if (n < 0) {
                throw bad(file, "truncated: the file ended at byte " + p + " while reading it");
            }
            p += n;
        }
    }

    private static IOException bad(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }

    @Override
    public void saveConfig(Path file, ModelConfig config) throws IOException {
        ObjectNode root = json.createObjectNode();
        root.put("model_type", MODEL_TYPE);
        root.put("vocab_size", config.vocabSize());
        root.put("layers", config.layers());
        root.put("d_model", config.dModel());
        root.put("heads", config.heads());
        if (config.kvHeads() != config.heads()) { // absent means heads: a multi-head model writes what it always wrote
            root.put("kv_heads", config.kvHeads());
        }
        root.put("ffn", config.ffn());
        root.put("context", config.context());
        root.put("norm", config.norm().name().toLowerCase(Locale.ROOT));
        root.put("norm_type", config.normType().name().toLowerCase(Locale.ROOT));
        root.put("positions", config.positions().name().toLowerCase(Locale.ROOT));
        if (config.positions() == ModelConfig.Positions.ROPE) {
            root.put("rope_base", config.ropeBase());
        }
        if (config.window() > 0) {
            root.put("window", config.window());
        }
        root.put("tie_embeddings", config.tieEmbeddings());
        root.put("attention", config.attention());
        root.put("norm_eps", config.normEps());
        root.put("init_std", config.initStd());
        if (config.classes() > 0) { // absent means 0: a model without the head writes the file it always wrote
            root.put("classes", config.classes());
        }
        if (config.scoreLikelihood()) { // absent means false, likewise
            root.put("score_likelihood", true);
        }
        if (config.likelihoodReference()) {
            root.put("likelihood_reference", true);
        }
        if (config.stepCredit()) {
            root.put("step_credit", true);
        }
        if (config.precision() != ModelConfig.Precision.FP32) { // absent means fp32
            root.put("precision", config.precision().name().toLowerCase(Locale.ROOT));
        }
        byte[] text = json.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
        byte[] withNewline = Arrays.copyOf(text, text.length + 1);
        withNewline[text.length] = '\n';
        AtomicFiles.write(file, withNewline);
    }

    @Override
    public ModelConfig loadConfig(Path file) throws IOException {
        JsonNode root;
        try {
            root = json.readTree(java.nio.file.Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw bad(file, "not valid JSON: " + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "expected a JSON object of model settings");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!key.equals("model_type") && !CONFIG_KEYS.contains(key) && !OPTIONAL_CONFIG_KEYS.contains(key)) {
                throw bad(file, "unknown key \"" + key + "\" (known: model_type, " + String.join(", ", CONFIG_KEYS)
                        + ", " + String.join(", ", OPTIONAL_CONFIG_KEYS) + ")");
            }
        }
        JsonNode type = root.get("model_type");
        if (type != null && !MODEL_TYPE.equals(type.asText())) {
            throw bad(file, "model_type is " + type + ", expected \"" + MODEL_TYPE + "\": not an align4j model");
        }
        for (String key : CONFIG_KEYS) {
            if (!root.has(key)) {
                throw bad(file, "missing key \"" + key + "\"");
            }
        }
        try {
            return ModelConfig.builder()
                    .vocabSize(integer(file, root, "vocab_size"))
                    .layers(integer(file, root, "layers"))
                    .dModel(integer(file, root, "d_model"))
                    .heads(integer(file, root, "heads"))
                    .kvHeads(root.has("kv_heads") ? positive(file, root, "kv_heads") : 0)
                    .ffn(integer(file, root, "ffn"))
                    .context(integer(file, root, "context"))
                    .norm(choice(file, root, "norm", ModelConfig.NormPlacement.class))
                    .normType(choice(file, root, "norm_type", ModelConfig.NormType.class))
                    .positions(choice(file, root, "positions", ModelConfig.Positions.class))
                    .ropeBase(root.has("rope_base") ? number(file, root, "rope_base") : 10000f)
                    .window(root.has("window") ? positive(file, root, "window") : 0)
                    .tieEmbeddings(bool(file, root, "tie_embeddings"))
                    .attention(text(file, root, "attention"))
                    .normEps(number(file, root, "norm_eps"))
                    .initStd(number(file, root, "init_std"))
                    .classes(root.has("classes") ? integer(file, root, "classes") : 0)
                    .scoreLikelihood(root.has("score_likelihood") && bool(file, root, "score_likelihood"))
                    .likelihoodReference(root.has("likelihood_reference")
                            && bool(file, root, "likelihood_reference"))
                    .stepCredit(root.has("step_credit") && bool(file, root, "step_credit"))
                    .precision(root.has("precision") ? choice(file, root, "precision", ModelConfig.Precision.class)
                            : ModelConfig.Precision.FP32)
                    .build();
        } catch (IllegalArgumentException e) {
            throw bad(file, e.getMessage());
        }
    }

    /** An integer above 0 (a key whose absence means a default must not be written as 0). */
    private static int positive(Path file, JsonNode root, String key) throws IOException {
        int v = integer(file, root, key);
        if (v < 1) {
            throw bad(file, "\"" + key + "\": expected an integer above 0, got " + v);
        }
        return v;
    }

    private static int integer(Path file, JsonNode root, String key) throws IOException {
        JsonNode n = root.get(key);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw bad(file, "\"" + key + "\": expected an integer, got " + n);
        }
        return n.intValue();
    }

    private static float number(Path file, JsonNode root, String key) throws IOException {
        JsonNode n = root.get(key);
        if (!n.isNumber()) {
            throw bad(file, "\"" + key + "\": expected a number, got " + n);
        }
        return (float) n.doubleValue();
    }

    private static boolean bool(Path file, JsonNode root, String key) throws IOException {
        JsonNode n = root.get(key);
        if (!n.isBoolean()) {
            throw bad(file, "\"" + key + "\": expected true or false, got " + n);
        }
        return n.booleanValue();
    }

    private static String text(Path file, JsonNode root, String key) throws IOException {
        JsonNode n = root.get(key);
        if (!n.isTextual()) {
            throw bad(file, "\"" + key + "\": expected a string, got " + n);
        }
        return n.textValue();
    }

    private static <E extends Enum<E>> E choice(Path file, JsonNode root, String key, Class<E> type)
            throws IOException {
        String v = text(file, root, key);
        String wanted = v.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(wanted)) {
                return e;
            }
        }
        List<String> ok = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            ok.add(e.name().toLowerCase(Locale.ROOT));
        }
        throw bad(file, "\"" + key + "\": expected one of " + String.join(", ", ok) + ", got \"" + v + "\"");
    }
}
