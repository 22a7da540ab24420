package org.align4j.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads and writes Hugging Face's {@code tokenizer.json} for byte-level BPE (the form GPT-2's file has).
 *
 * <p>Reading accepts what this tokenizer can reproduce exactly and names the field of anything else:
 * <ul>
 * <li>{@code model}: {@code type "BPE"}; {@code vocab} an object of token to id that holds all 256 byte tokens;
 * {@code merges} as {@code ["a", "b"]} arrays or as the older {@code "a b"} strings; {@code dropout} null or 0;
 * {@code continuing_subword_prefix} and {@code end_of_word_suffix} null or empty; {@code ignore_merges} absent or
 * false. {@code unk_token}, {@code fuse_unk} and {@code byte_fallback} are read over: with every byte in the vocabulary
 * they never act.</li>
 * <li>{@code pre_tokenizer}: {@code ByteLevel} with {@code add_prefix_space} false and {@code use_regex} true.</li>
 * <li>{@code normalizer}: null. {@code post_processor}, {@code decoder}: null or {@code ByteLevel} (neither changes ids
 * or text here).</li>
 * <li>{@code added_tokens}: special tokens only; the first (in file order) is end-of-text, the others take their
 * roles by content (see {@link BpeTokenizer}). Written as Hugging Face writes them ({@code id, content, single_word,
 * lstrip, rstrip, normalized, special}, the flags false, special true) and also listed in {@code model.vocab}.</li>
 * <li>{@code truncation}, {@code padding} are batch-encoding options of Hugging Face's runtime and are read over.</li>
 * </ul>
 * Errors look like {@code tokenizer.json: field "model.type": expected "BPE", got "WordPiece"; ...}; a syntax error
 * gives {@code tokenizer.json:LINE:COLUMN: invalid JSON: ...}, a {@code NaN} or {@code Infinity} names the field it
 * stands in ({@code field "model.vocab["x"]"}), a duplicate key names the key and its object, and bytes that are not
 * UTF-8 are named in hex with their line. A UTF-8 byte order mark is read over with a warning.
 */
final class TokenizerJson {

    /** Ids above this are refused as implausible (the array of tokens is allocated up to the largest id). */
    static final int MAX_ID = (1 << 24) - 1;

    private TokenizerJson() {
    }

    private static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper();
        m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        m.enable(SerializationFeature.INDENT_OUTPUT);
        return m;
    }

    // ---------------------------------------------------------------------------------------------- writing

    static void write(BpeTokenizer t, Path file) throws IOException {
        ObjectMapper m = mapper();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int id : t.specialIds()) {
            ObjectNode a = added.addObject();
            a.put("id", id);
            a.put("content", t.token(id));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        root.putNull("normalizer");
        byteLevel(root.putObject("pre_tokenizer"));
        root.putNull("post_processor");
        byteLevel(root.putObject("decoder"));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < t.vocabSize(); id++) {
            String s = t.token(id);
            if (s != null) {
                vocab.put(s, id);
            }
        }
        ArrayNode merges = model.putArray("merges");
        for (String[] pair : t.merges()) {
            merges.addArray().add(pair[0]).add(pair[1]);
        }
        writeAtomically(m.writeValueAsBytes(root), file);
    }

    private static void byteLevel(ObjectNode n) {
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false);
        n.put("trim_offsets", true);
        n.put("use_regex", true);
    }

    /** Writes {@code data} to a temporary file beside {@code file}, then renames it into place. */
    static void writeAtomically(byte[] data, Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            Files.write(tmp, data);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---------------------------------------------------------------------------------------------- reading

    static BpeTokenizer read(Path file, Consumer<String> warnings) throws IOException {
        String name = file.toString();
        if (!Files.exists(file)) {
            throw new NoSuchFileException(name, null,
                    "no such file (working directory: " + Paths.get("").toAbsolutePath() + ")");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(name + ": is a directory; expected a tokenizer.json file");
        }
        String text = utf8(name, Files.readAllBytes(file), warnings);
        JsonNode root;
        try {
            root = mapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw syntaxError(name, e);
        }
        return new Reader(name).read(root);
    }

    /**
     * Decodes {@code data} as strict UTF-8. A leading byte order mark is dropped with a warning; a malformed sequence
     * fails naming the line, the column and the bytes (hex).
     */
    static String utf8(String name, byte[] data, Consumer<String> warnings) throws IOException {
        int start = 0;
        if (data.length >= 3 && (data[0] & 0xFF) == 0xEF && (data[1] & 0xFF) == 0xBB && (data[2] & 0xFF) == 0xBF) {
            start = 3;
            warnings.accept(name + ": starts with a UTF-8 byte order mark (EF BB BF); read over it. JSON files have"
                    + " none (RFC 8259): save it as UTF-8 without BOM");
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(data, start, data.length - start);
        CharBuffer out = CharBuffer.allocate(data.length - start);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            int lineStart = start;
            for (int i = start; i < at; i++) {
                if (data[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            // the column in characters, as editors count them
            int column = 1 + new String(data, lineStart, at - lineStart, StandardCharsets.UTF_8).length();
            StringBuilder hex = new StringBuilder();
            for (int i = at; i < Math.min(data.length, at + Math.max(1, r.length())); i++) {
                hex.append(hex.length() == 0 ? "" : " ").append(String.format("%02X", data[i] & 0xFF));
            }
            throw new IOException(name + ":" + line + ":" + column + ": not UTF-8: the byte" + (r.length() > 1 ? "s "
                    : " ") + hex + " at byte offset " + at + " do" + (r.length() > 1 ? "" : "es") + " not form a UTF-8"
                    + " character (was the file saved as Latin-1 or Windows-1252?); a tokenizer.json is UTF-8 JSON:"
                    + " re-save the file as UTF-8");
        }
        out.flip();
        return out.toString();
    }

    /** A Jackson syntax error as {@code file:line:column: ...}, naming the field for NaN/Infinity and duplicates. */
    private static IOException syntaxError(String name, JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? name : name + ":" + at.getLineNr() + ":" + at.getColumnNr();
        String msg = firstLine(e.getOriginalMessage());
        JsonStreamContext ctx = e.getProcessor() instanceof JsonParser
                ? ((JsonParser) e.getProcessor()).getParsingContext() : null;
        Matcher nonNumeric = NON_NUMERIC.matcher(msg);
        if (nonNumeric.find() && ctx != null) {
            return new IOException(where + ": field \"" + path(ctx) + "\": " + nonNumeric.group(1)
                    + " is not a JSON number (JSON has no NaN or Infinity); write the number the field needs", e);
        }
        Matcher duplicate = DUPLICATE.matcher(msg);
        if (duplicate.find()) {
            String in = ctx == null || ctx.getParent() == null ? "" : path(ctx.getParent());
            return new IOException(where + ": duplicate key " + quote(duplicate.group(1)) + " in "
                    + (in.isEmpty() ? "the top-level object" : "\"" + in + "\"")
                    + "; each key may appear once: remove or rename one of them", e);
        }
        return new IOException(where + ": invalid JSON: " + msg, e);
    }

    private static final Pattern NON_NUMERIC = Pattern.compile("Non-standard token '([-+]?(?:NaN|Infinity|INF))'");
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'");

    /** The JSON path of {@code ctx} in the form of the field messages: {@code model.vocab["x"]}, {@code a[3].id}. */
    private static String path(JsonStreamContext ctx) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.add("[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.inObject() && c.getCurrentName() != null) {
                String key = c.getCurrentName();
                boolean plain = key.matches("[A-Za-z_][A-Za-z0-9_]*") && !(c.getParent() != null
                        && "vocab".equals(c.getParent().getCurrentName()));
                parts.add(plain ? "." + key : "[" + quote(key) + "]");
            }
        }
        StringBuilder b = new StringBuilder();
        for (int i = parts.size() - 1; i >= 0; i--) {
            b.append(parts.get(i));
        }
        return b.length() > 0 && b.charAt(0) == '.' ? b.substring(1) : b.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        String first = nl < 0 ? s : s.substring(0, nl);
        // Jackson adds where the object started, naming a "source" it has redacted: the file:line:column says it
        return first.replaceAll("\\s*\\(start marker at \\[Source: .*\\)$", "");
    }

    /** Reads one parsed file; every error names the file and the JSON path of the field. */
    private static final class Reader {
        private final String file;

        Reader(String file) {
            this.file = file;
        }

        IOException fail(String path, String problem) {
            return new IOException(file + ": field \"" + path + "\": " + problem);
        }

        BpeTokenizer read(JsonNode root) throws IOException {
            if (root == null || root.isMissingNode()) {
                throw new IOException(file + ": empty file; expected a Hugging Face tokenizer.json");
            }
            if (!root.isObject()) {
                throw new IOException(file + ": expected a JSON object at the top level, got " + describe(root)
                        + "; expected a Hugging Face tokenizer.json");
            }
            checkNormalizer(root.get("normalizer"));
            checkPreTokenizer(root.get("pre_tokenizer"));
            checkNullOrByteLevel(root.get("post_processor"), "post_processor",
                    "align4j adds no tokens around a text; remove the post_processor or set it to null");
            checkNullOrByteLevel(root.get("decoder"), "decoder",
                    "a byte-level BPE decodes by its byte table; set the decoder to {\"type\": \"ByteLevel\"}");

            JsonNode model = root.get("model");
            if (model == null || !model.isObject()) {
                throw fail("model", "expected an object, got " + describe(model)
                        + "; a tokenizer.json holds its BPE vocabulary and merges there");
            }
            checkModel(model);

            // Special tokens first: their content may also appear in model.vocab (with the same id).
            Map<Integer, String> specials = new HashMap<>();
            List<Integer> specialOrder = new ArrayList<>();
            readAddedTokens(root.get("added_tokens"), specials, specialOrder);

            Map<String, Integer> vocab = readVocab(model.get("vocab"), specials);
            int size = 0;
            for (int id : vocab.values()) {
                size = Math.max(size, id + 1);
            }
            for (int id : specials.keySet()) {
                size = Math.max(size, id + 1);
            }
            String[] tokens = new String[size];
            boolean[] special = new boolean[size];
            vocab.forEach((s, id) -> tokens[id] = s);
            for (Map.Entry<Integer, String> e : specials.entrySet()) {
                tokens[e.getKey()] = e.getValue();
                special[e.getKey()] = true;
            }
            for (int b = 0; b < 256; b++) {
                String t = String.valueOf(ByteLevel.charOf(b));
                if (!vocab.containsKey(t)) {
                    throw fail("model.vocab", String.format("no token for byte 0x%02X (\"%s\"); a byte-level BPE"
                            + " vocabulary holds all 256 byte tokens", b, t));
                }
            }
            int[][] merges = readMerges(model.get("merges"), vocab, specials);
            int[] specialIds = specialOrder.stream().mapToInt(Integer::intValue).toArray();
            return new BpeTokenizer(tokens, special, specialIds, merges);
        }

        private void checkNormalizer(JsonNode n) throws IOException {
            if (n != null && !n.isNull()) {
                throw fail("normalizer", "expected null, got " + describe(n)
                        + "; align4j's bpe tokenizer applies no normalizer (byte-level BPE needs none)");
            }
        }

        private void checkPreTokenizer(JsonNode n) throws IOException {
            if (n == null || !n.isObject()) {
                throw fail("pre_tokenizer", "expected an object {\"type\": \"ByteLevel\", ...}, got " + describe(n)
                        + "; align4j's bpe tokenizer reads byte-level BPE files (GPT-2 style) only");
            }
            expectText(n, "pre_tokenizer", "type", "ByteLevel",
                    "align4j's bpe tokenizer reads byte-level BPE files (GPT-2 style) only");
            JsonNode prefix = n.get("add_prefix_space");
            if (prefix != null && !(prefix.isBoolean() && !prefix.booleanValue())) {
                throw fail("pre_tokenizer.add_prefix_space", "expected false, got " + describe(prefix)
                        + "; align4j does not add a leading space (set it to false, as GPT-2's file has)");
            }
            JsonNode regex = n.get("use_regex");
            if (regex != null && !(regex.isBoolean() && regex.booleanValue())) {
                throw fail("pre_tokenizer.use_regex", "expected true, got " + describe(regex)
                        + "; align4j splits text with GPT-2's pattern (set it to true)");
            }
        }

        private void checkNullOrByteLevel(JsonNode n, String path, String advice) throws IOException {
            if (n == null || n.isNull()) {
                return;
            }
            JsonNode type = n.get("type");
            if (!n.isObject() || type == null || !type.isTextual() || !"ByteLevel".equals(type.textValue())) {
                throw fail(n.isObject() ? path + ".type" : path, "expected \"ByteLevel\" or null, got "
                        + describe(n.isObject() ? type : n) + "; " + advice);
            }
        }

        private void checkModel(JsonNode model) throws IOException {
            expectText(model, "model", "type", "BPE",
                    "align4j's bpe tokenizer reads byte-level BPE files only (as GPT-2's tokenizer.json)");
            JsonNode dropout = model.get("dropout");
            if (dropout != null && !dropout.isNull() && !(dropout.isNumber() && dropout.doubleValue() == 0)) {
                throw fail("model.dropout", "expected null, got " + describe(dropout)
                        + "; BPE dropout is a training-time randomisation align4j does not apply");
            }
            for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
                JsonNode v = model.get(key);
                if (v != null && !v.isNull() && !(v.isTextual() && v.textValue().isEmpty())) {
                    throw fail("model." + key, "expected null, got " + describe(v)
                            + "; byte-level BPE marks word starts with the space byte 'Ġ', not with affixes");
                }
            }
            JsonNode ignore = model.get("ignore_merges");
            if (ignore != null && !ignore.isNull() && !(ignore.isBoolean() && !ignore.booleanValue())) {
                throw fail("model.ignore_merges", "expected false, got " + describe(ignore)
                        + "; align4j always applies the merges");
            }
        }

        private void expectText(JsonNode n, String at, String key, String expected, String advice)
                throws IOException {
            JsonNode v = n.get(key);
            if (v == null || !v.isTextual() || !expected.equals(v.textValue())) {
                throw fail(at + "." + key, "expected \"" + expected + "\", got " + describe(v) + "; " + advice);
            }
        }

        private void readAddedTokens(JsonNode added, Map<Integer, String> specials, List<Integer> order)
                throws IOException {
            if (added != null && !added.isNull() && !added.isArray()) {
                throw fail("added_tokens", "expected an array, got " + describe(added));
            }
            Map<String, Integer> byContent = new HashMap<>();
            if (added != null && added.isArray()) {
                for (int i = 0; i < added.size(); i++) {
                    String at = "added_tokens[" + i + "]";
                    JsonNode a = added.get(i);
                    if (!a.isObject()) {
                        throw fail(at, "expected an object {\"id\": ..., \"content\": ..., \"special\": true},"
                                + " got " + describe(a));
                    }
                    int id = readId(a.get("id"), at + ".id");
                    JsonNode content = a.get("content");
                    if (content == null || !content.isTextual() || content.textValue().isEmpty()) {
                        throw fail(at + ".content", "expected a non-empty string, got " + describe(content));
                    }
                    JsonNode sp = a.get("special");
                    if (sp == null || !sp.isBoolean() || !sp.booleanValue()) {
                        throw fail(at + ".special", "expected true, got " + describe(sp) + "; align4j supports"
                                + " special added tokens only (ordinary added tokens change how text is split)");
                    }
                    String c = content.textValue();
                    if (specials.containsKey(id)) {
                        throw fail(at + ".id", "id " + id + " is already used by the added token \""
                                + specials.get(id) + "\"");
                    }
                    if (byContent.containsKey(c)) {
                        throw fail(at + ".content", "\"" + c + "\" is already an added token (id "
                                + byContent.get(c) + ")");
                    }
                    if (c.length() == 1 && ByteLevel.byteOf(c.charAt(0)) >= 0) {
                        throw fail(at + ".content", "\"" + c + "\" is the byte-level token of byte "
                                + String.format("0x%02X", ByteLevel.byteOf(c.charAt(0)))
                                + "; a special token needs a name of its own, e.g. <|endoftext|>");
                    }
                    specials.put(id, c);
                    byContent.put(c, id);
                    order.add(id);
                }
            }
            if (order.isEmpty()) {
                throw fail("added_tokens", "no special token; align4j needs one as end-of-text and padding (add"
                        + " {\"id\": N, \"content\": \"<|endoftext|>\", \"special\": true, ...})");
            }
        }

        private int readId(JsonNode v, String at) throws IOException {
            if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0
                    || v.intValue() > MAX_ID) {
                throw fail(at, "expected a token id (a whole number in [0, " + MAX_ID + "]), got " + describe(v));
            }
            return v.intValue();
        }

        private Map<String, Integer> readVocab(JsonNode vocab, Map<Integer, String> specials) throws IOException {
            if (vocab == null || !vocab.isObject()) {
                throw fail("model.vocab", "expected an object of token to id, got " + describe(vocab));
            }
            Map<String, Integer> out = new HashMap<>();
            Map<Integer, String> byId = new HashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = vocab.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String token = e.getKey();
                String at = "model.vocab[" + quote(token) + "]";
                int id = readId(e.getValue(), at);
                String sp = specials.get(id);
                if (sp != null) {
                    if (!sp.equals(token)) {
                        throw fail(at, "id " + id + " is the special token \"" + sp + "\" in added_tokens; give "
                                + quote(token) + " an id of its own");
                    }
                    continue; // the special token's own entry
                }
                if (specials.containsValue(token)) {
                    throw fail(at, quote(token) + " is a special token with another id in added_tokens; use one id");
                }
                if (token.isEmpty()) {
                    throw fail(at, "an empty token; remove it");
                }
                int bad = ByteLevel.firstForeign(token);
                if (bad >= 0) {
                    throw fail(at, quote(token) + " is not a byte-level token: its character "
                            + String.format("U+%04X", (int) token.charAt(bad)) + " is outside GPT-2's byte alphabet;"
                            + " align4j reads byte-level BPE vocabularies only");
                }
                String other = byId.put(id, token);
                if (other != null) {
                    throw fail(at, "id " + id + " is already used by " + quote(other) + "; ids must be unique");
                }
                out.put(token, id);
            }
            return out;
        }

        private int[][] readMerges(JsonNode merges, Map<String, Integer> vocab, Map<Integer, String> specials)
                throws IOException {
            if (merges == null || !merges.isArray()) {
                throw fail("model.merges", "expected an array of merges ([\"a\", \"b\"] or \"a b\"), got "
                        + describe(merges));
            }
            Map<String, Integer> specialIds = new HashMap<>();
            specials.forEach((id, s) -> specialIds.put(s, id));
            int[][] out = new int[merges.size()][];
            for (int i = 0; i < merges.size(); i++) {
                String at = "model.merges[" + i + "]";
                JsonNode m = merges.get(i);
                String a;
                String b;
                if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                    a = m.get(0).textValue();
                    b = m.get(1).textValue();
                } else if (m.isTextual()) {
                    String[] parts = m.textValue().split(" ", -1);
                    if (parts.length != 2) {
                        throw fail(at, "expected \"left right\" (two tokens and one space), got " + describe(m));
                    }
                    a = parts[0];
                    b = parts[1];
                } else {
                    throw fail(at, "expected [\"left\", \"right\"] or \"left right\", got " + describe(m));
                }
                Integer left = vocab.get(a);
                Integer right = vocab.get(b);
                if (left == null) {
                    throw fail(at, "token " + quote(a) + " is not in model.vocab (as a byte-level token)");
                }
                if (right == null) {
                    throw fail(at, "token " + quote(b) + " is not in model.vocab (as a byte-level token)");
                }
                String merged = a + b;
                if (specialIds.containsKey(merged)) {
                    throw fail(at, "the merge spells the special token " + quote(merged)
                            + "; text must never produce a special token, so remove this merge");
                }
                Integer result = vocab.get(merged);
                if (result == null) {
                    throw fail(at, "the merged token " + quote(merged) + " is not in model.vocab");
                }
                out[i] = new int[] {left, right, result};
            }
            return out;
        }
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** A JSON value for messages: strings quoted, numbers and booleans as written, containers by kind. */
    static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing (missing)";
        }
        if (n.isNull()) {
            return "null";
        }
        if (n.isTextual()) {
            return quote(n.textValue());
        }
        if (n.isObject()) {
            JsonNode type = n.get("type");
            return type != null && type.isTextual() ? "an object of type " + quote(type.textValue()) : "an object";
        }
        if (n.isArray()) {
            return "an array";
        }
        return n.toString();
    }
}
