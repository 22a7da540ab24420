package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.align4j.api.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken {@code tokenizer.json} input: every error names the line or the field, and none is a Java exception. */
class TokenizerJsonInputErrorsTest {

    @TempDir
    Path dir;

    private final BpeTokenizerFactory factory = new BpeTokenizerFactory();
    private Tokenizer trained;
    /** The saved file as text, pretty-printed (one key per line). */
    private String good;

    @BeforeEach
    void save() throws IOException {
        trained = factory.train(List.of("hug hug hug pug pun"), BpeTrainingTest.settings("vocab", 300), n -> { });
        Path file = dir.resolve("good.json");
        trained.save(file);
        good = Files.readString(file, StandardCharsets.UTF_8);
    }

    private String loadError(Path file) {
        String m = assertThrows(IOException.class, () -> factory.load(file)).getMessage();
        assertFalse(m.contains("Exception") || m.contains("\n"), "not a plain one-line message: " + m);
        assertTrue(m.startsWith(file + ":"), m);
        return m;
    }

    /** The 1-based line of the first occurrence of {@code needle} in {@code text}. */
    private static int lineOf(String text, String needle) {
        int at = text.indexOf(needle);
        assertTrue(at >= 0, needle);
        return 1 + (int) text.substring(0, at).chars().filter(c -> c == '\n').count();
    }

    /** {@code good} with the first {@code target} replaced by {@code prefix}, the raw bytes, then {@code suffix}. */
    private Path withBytes(String name, String target, String prefix, byte[] raw, String suffix) throws IOException {
        int at = good.indexOf(target);
        assertTrue(at >= 0, target);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(good.substring(0, at).getBytes(StandardCharsets.UTF_8));
        out.writeBytes(prefix.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(raw);
        out.writeBytes(suffix.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(good.substring(at + target.length()).getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve(name);
        Files.write(file, out.toByteArray());
        return file;
    }

    private Path withText(String name, String target, String replacement) throws IOException {
        assertTrue(good.contains(target), target);
        Path file = dir.resolve(name);
        Files.writeString(file, good.replaceFirst(java.util.regex.Pattern.quote(target),
                java.util.regex.Matcher.quoteReplacement(replacement)), StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void invalidUtf8NamesTheLineColumnAndBytes() throws IOException {
        int line = lineOf(good, "\"version\"");
        String lineText = good.split("\n", -1)[line - 1];
        int column = lineText.indexOf("\"1.0\"") + 3; // 1-based column of the byte after '"1'
        byte[][] bad = {{(byte) 0xC3, '('}, {(byte) 0x80}, {(byte) 0xFF}};
        String[] named = {"C3", "80", "FF"};
        for (int i = 0; i < bad.length; i++) {
            Path file = withBytes("bad" + i + ".json", "\"1.0\"", "\"1", bad[i], ".0\"");
            String m = loadError(file);
            assertTrue(m.startsWith(file + ":" + line + ":" + column + ": not UTF-8: the byte " + named[i] + " "), m);
            assertTrue(m.endsWith("re-save the file as UTF-8"), m);
        }
        // A cut 4-byte sequence (the first three bytes of an emoji) is named with all its bytes.
        Path cut = withBytes("cut.json", "\"1.0\"", "\"1", new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, "\"");
        assertTrue(loadError(cut).contains(": not UTF-8: the bytes F0 9F 98 "), loadError(cut));
    }

    @Test
    void aByteOrderMarkIsReadOverWithAWarning() throws IOException {
        Path file = dir.resolve("bom.json");
        byte[] body = good.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[body.length + 3];
        data[0] = (byte) 0xEF;
        data[1] = (byte) 0xBB;
        data[2] = (byte) 0xBF;
        System.arraycopy(body, 0, data, 3, body.length);
        Files.write(file, data);
        List<String> warnings = new ArrayList<>();
        Tokenizer t = factory.load(file, warnings::add);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith(file + ": starts with a UTF-8 byte order mark (EF BB BF); read over it"),
                warnings.get(0));
        assertArrayEquals(trained.encode("hug pug pun"), t.encode("hug pug pun"));
        assertEquals(trained.specialTokens(), t.specialTokens());
        // Without a warnings consumer it loads the same.
        assertArrayEquals(trained.encode("hug pug pun"), factory.load(file).encode("hug pug pun"));
        // A file without BOM warns of nothing.
        List<String> none = new ArrayList<>();
        factory.load(dir.resolve("good.json"), none::add);
        assertEquals(List.of(), none);
    }

    @Test
    void nanAndInfinityNameTheFieldTheyStandIn() throws IOException {
        Path vocab = withText("nan.json", "\"x\" : 120", "\"x\" : NaN");
        assertTrue(loadError(vocab).startsWith(vocab + ":" + lineOf(good, "\"x\" : 120") + ":"), loadError(vocab));
        assertTrue(loadError(vocab).contains(": field \"model.vocab[\"x\"]\": NaN is not a JSON number"),
                loadError(vocab));

        Path id = withText("inf.json", "\"id\" : 256", "\"id\" : Infinity");
        assertTrue(loadError(id).contains(": field \"added_tokens[0].id\": Infinity is not a JSON number"),
                loadError(id));

        Path dropout = withText("minf.json", "\"dropout\" : null", "\"dropout\" : -Infinity");
        assertTrue(loadError(dropout).contains(": field \"model.dropout\": -Infinity is not a JSON number"),
                loadError(dropout));
    }

    @Test
    void aDuplicateKeyIsNamedWithItsObject() throws IOException {
        Path vocab = withText("dupvocab.json", "\"x\" : 120", "\"x\" : 120, \"x\" : 121");
        String m = loadError(vocab);
        assertTrue(m.startsWith(vocab + ":" + lineOf(good, "\"x\" : 120") + ":"), m);
        assertTrue(m.contains(": duplicate key \"x\" in \"model.vocab\"; each key may appear once"), m);

        Path added = withText("dupadded.json", "\"id\" : 256", "\"id\" : 256, \"id\" : 257");
        assertTrue(loadError(added).contains(": duplicate key \"id\" in \"added_tokens[0]\""), loadError(added));
    }
}
