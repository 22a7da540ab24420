package org.align4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.DataException;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlReaderTest {

    @TempDir
    Path dir;

    private final JsonlReader reader = new JsonlReader();

    static Settings settings(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Settings.of("run.yaml", m);
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void readsAGoodFile() throws IOException {
        Path p = write("good.jsonl", "{\"text\": \"hello\", \"n\": 3}\n"
                + "\n"
                + "   \n"
                + "{\"text\": \"wörld 🌍\", \"tags\": [\"a\", null], \"meta\": {\"x\": 1.5, \"ok\": true}, \"gone\": null}\r\n"
                + "{\"prompt\": \"2+2=\", \"text\": \"\"}"); // last line without newline
        ReadResult r = reader.read(p, settings("require", List.of("text")));
        assertEquals(List.of(), r.skipped());
        List<Record> recs = r.records();
        assertEquals(3, recs.size());
        assertEquals(1, recs.get(0).line());
        assertEquals(4, recs.get(1).line());
        assertEquals(5, recs.get(2).line());
        assertEquals(p.toString(), recs.get(0).source());
        assertEquals("hello", recs.get(0).text("text"));
        assertEquals(3, ((Number) recs.get(0).fields().get("n")).intValue());
        Record second = recs.get(1);
        assertEquals("wörld 🌍", second.text("text"));
        assertEquals(java.util.Arrays.asList("a", null), second.fields().get("tags"));
        assertEquals(Map.of("x", 1.5, "ok", true), second.fields().get("meta"));
        assertFalse(second.fields().containsKey("gone")); // a null field is left out
        assertEquals("", recs.get(2).text("text"));
        assertEquals("2+2=", recs.get(2).text("prompt"));
    }

    @Test
    void byteOrderMarkIsSkipped() throws IOException {
        Path p = dir.resolve("bom.jsonl");
        Files.write(p, ("\uFEFF{\"text\": \"a\"}\n").getBytes(StandardCharsets.UTF_8));
        assertEquals("a", reader.read(p, settings()).records().get(0).text("text"));
    }

    private String error(Path p, Settings s) {
        return assertThrows(DataException.class, () -> reader.read(p, s)).getMessage();
    }

    @Test
    void malformedLinesFailWithFileAndLine() throws IOException {
        String ok = "{\"text\": \"fine\"}\n";
        Path bad = write("bad.jsonl", ok + "{\"text\": \"x\",}\n");
        DataException e = assertThrows(DataException.class, () -> reader.read(bad, settings()));
        assertInstanceOf(JsonSyntaxException.class, e);
        assertEquals(bad.toString(), e.source());
        assertEquals(2, e.line());
        assertTrue(e.getMessage().startsWith(bad + ":2:14: invalid JSON: Unexpected character ('}' (code 125)):"),
                e.getMessage());
        assertEquals(14, ((JsonSyntaxException) e).column());

        Path trailing = write("trailing.jsonl", ok + ok + "{\"text\": \"a\"} {\"text\": \"b\"}\n");
        assertTrue(error(trailing, settings()).startsWith(trailing + ":3:15: invalid JSON: Trailing token"),
                error(trailing, settings()));

        Path open = write("open.jsonl", ok + "{\"text\": \"a\"\n");
        assertEquals(open + ":2:13: invalid JSON: Unexpected end-of-input: expected close marker for Object",
                error(open, settings()));

        Path dup = write("dup.jsonl", "{\"text\": \"a\", \"text\": \"b\"}\n");
        assertEquals(dup + ":1: field \"text\": duplicate key; an object holds each key once", error(dup, settings()));

        Path array = write("array.jsonl", ok + "[\"text\"]\n");
        assertEquals(array + ":2: expected a JSON object ({\"field\": value, ...}), got an array",
                error(array, settings()));
        Path number = write("number.jsonl", "42\n");
        assertEquals(number + ":1: expected a JSON object ({\"field\": value, ...}), got a number (42)",
                error(number, settings()));

        Path nul = write("null.jsonl", ok + ok + "{\"text\": null}\n");
        assertEquals(nul + ":3: field \"text\": expected a string, got null",
                error(nul, settings("require", List.of("text"))));
        Path missing = write("missing.jsonl", "{\"prompt\": \"p\"}\n");
        assertEquals(missing + ":1: field \"text\": expected a string, got nothing (missing)",
                error(missing, settings("require", "text")));
        Path num = write("num.jsonl", "{\"chosen\": \"a\", \"rejected\": 7}\n");
        assertEquals(num + ":1: field \"rejected\": expected a string, got a number (7)",
                error(num, settings("require", List.of("chosen", "rejected"))));
        // The corpus field named by `field` is required too.
        assertEquals(missing + ":1: field \"body\": expected a string, got nothing (missing)",
                error(missing, settings("field", "body")));
        // Without `require`, any object is a record.
        assertEquals(3, reader.read(nul, settings()).records().size());
    }

    @Test
    void invalidUtf8FailsOnItsLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("{\"text\": \"ok\"}\n{\"text\": \"caf".getBytes(StandardCharsets.UTF_8));
        b.write(0xE9); // Latin-1 é
        b.writeBytes("\"}\n{\"text\": \"after\"}\n".getBytes(StandardCharsets.UTF_8));
        Path p = dir.resolve("latin1.jsonl");
        Files.write(p, b.toByteArray());
        // The JSONL path names the field whose string holds the bytes.
        assertEquals(p + ":2: field \"text\": invalid UTF-8 (bytes 0xE9 at byte 14 of the line); save the file "
                + "as UTF-8", error(p, settings()));
        ReadResult r = reader.read(p, settings("skip_malformed", true));
        assertEquals(List.of("ok", "after"), r.records().stream().map(x -> x.text("text")).toList());
        assertEquals(List.of(p + ":2: field \"text\": invalid UTF-8 (bytes 0xE9 at byte 14 of the line); save the file "
                + "as UTF-8"), r.skipped());
        assertEquals(3, r.records().get(1).line());
    }

    @Test
    void nanAndInfinityFailNamingTheField() throws IOException {
        // Shared with the structured reader: parsed so that the message can name the field, then rejected.
        Path p = write("nan.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\", \"weight\": NaN}\n");
        assertEquals(p + ":2: field \"weight\": expected a finite number, got NaN (JSON has no NaN or Infinity); write "
                + "a finite number or leave the record out", error(p, settings()));
        Path inf = write("inf.jsonl", "{\"text\": \"b\", \"w\": [0.5, Infinity]}\n");
        assertEquals(inf + ":1: field \"w[1]\": expected a finite number, got Infinity (JSON has no NaN or Infinity); "
                + "write a finite number or leave the record out", error(inf, settings()));
    }

    @Test
    void skipModeListsEveryMalformedLine() throws IOException {
        Path p = write("mixed.jsonl", "{\"text\": \"a\"}\n" // 1 ok
                + "not json\n" // 2 syntax
                + "{\"text\": \"b\"}\n" // 3 ok
                + "[1]\n" // 4 not an object
                + "\n" // 5 blank: not malformed
                + "{\"text\": null}\n" // 6 null
                + "{\"other\": \"c\"}\n" // 7 missing
                + "{\"text\": \"d\"}\n"); // 8 ok
        ReadResult r = reader.read(p, settings("skip_malformed", true, "require", List.of("text")));
        assertEquals(List.of("a", "b", "d"), r.records().stream().map(x -> x.text("text")).toList());
        assertEquals(List.of(1L, 3L, 8L), r.records().stream().map(Record::line).toList());
        assertEquals(4, r.skipped().size());
        // Jackson places an unrecognised token's error just after the token.
        assertTrue(r.skipped().get(0).startsWith(p + ":2:4: invalid JSON: Unrecognized token 'not'"),
                r.skipped().get(0));
        assertEquals(p + ":4: expected a JSON object ({\"field\": value, ...}), got an array", r.skipped().get(1));
        assertEquals(p + ":6: field \"text\": expected a string, got null", r.skipped().get(2));
        assertEquals(p + ":7: field \"text\": expected a string, got nothing (missing)", r.skipped().get(3));
        // Not skipping, the first one fails.
        assertTrue(error(p, settings("require", List.of("text"))).startsWith(p + ":2:4: invalid JSON"));
    }

    @Test
    void missingFileSaysWhereItLooked() {
        Path p = dir.resolve("nope.jsonl");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> reader.read(p, settings()));
        assertEquals(p + ": no such file (working directory: " + Path.of("").toAbsolutePath() + ")", e.getMessage());
        IOException d = assertThrows(IOException.class, () -> reader.read(dir, settings()));
        assertEquals(dir + ": is a directory; expected a dataset file", d.getMessage());
    }

    @Test
    void settingsAreChecked() throws IOException {
        Path p = write("s.jsonl", "{\"text\": \"a\"}\n");
        SettingsException e = assertThrows(SettingsException.class,
                () -> reader.read(p, settings("skip_malformd", true)));
        assertEquals("run.yaml: skip_malformd: unknown setting (accepted here: skip_malformed, require, field)",
                e.getMessage());
        SettingsException bool = assertThrows(SettingsException.class,
                () -> reader.read(p, settings("skip_malformed", "perhaps")));
        assertEquals("run.yaml: skip_malformed: expected true or false, got \"perhaps\"", bool.getMessage());
        SettingsException req = assertThrows(SettingsException.class,
                () -> reader.read(p, settings("require", List.of("text", 3))));
        assertEquals("run.yaml: require[1]: expected a field name, got 3", req.getMessage());
        // validate() rejects the same settings the same way, without a file
        for (Settings bad : List.of(settings("skip_malformd", true), settings("skip_malformed", "perhaps"),
                settings("require", List.of("text", 3)))) {
            String read = assertThrows(SettingsException.class, () -> reader.read(p, bad)).getMessage();
            assertEquals(read, assertThrows(SettingsException.class, () -> reader.validate(bad)).getMessage());
        }
        reader.validate(settings("skip_malformed", true, "require", List.of("text")));
    }

    @Test
    void readsLongFilesLineByLine() throws IOException {
        // Lines longer than the read chunk (64 KiB) and many lines across chunk borders.
        StringBuilder b = new StringBuilder();
        String longText = "x".repeat(200_000);
        b.append("{\"text\": \"").append(longText).append("\"}\n");
        for (int i = 0; i < 20_000; i++) {
            b.append("{\"text\": \"line ").append(i).append("\"}\n");
        }
        Path p = write("long.jsonl", b.toString());
        List<Record> recs = reader.read(p, settings("require", List.of("text"))).records();
        assertEquals(20_001, recs.size());
        assertEquals(longText, recs.get(0).text("text"));
        for (int i = 0; i < 20_000; i++) {
            assertEquals("line " + i, recs.get(i + 1).text("text"));
            assertEquals(i + 2, recs.get(i + 1).line());
        }
    }
}
