package org.align4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import org.align4j.api.data.DataException;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextReaderTest {

    @TempDir
    Path dir;

    private final TextReader reader = new TextReader();

    private static final String TEXT = "First line.\r\n"
            + "Second line\n"
            + "\n"
            + "   \n"
            + "Third, after blanks.\n"
            + "  indented fourth\n"
            + "\n"
            + "Last";

    private Path file() throws IOException {
        Path p = dir.resolve("corpus.txt");
        Files.writeString(p, TEXT, StandardCharsets.UTF_8);
        return p;
    }

    private static List<String> texts(ReadResult r, String field) {
        return r.records().stream().map(x -> x.text(field)).toList();
    }

    @Test
    void lineMode() throws IOException {
        ReadResult r = reader.read(file(), JsonlReaderTest.settings());
        assertEquals(List.of("First line.", "Second line", "Third, after blanks.", "  indented fourth", "Last"),
                texts(r, "text"));
        assertEquals(List.of(1L, 2L, 5L, 6L, 8L), r.records().stream().map(Record::line).toList());
        assertEquals(List.of(), r.skipped());
    }

    @Test
    void paragraphMode() throws IOException {
        ReadResult r = reader.read(file(), JsonlReaderTest.settings("split", "paragraph", "field", "body"));
        assertEquals(List.of("First line.\nSecond line", "Third, after blanks.\n  indented fourth", "Last"),
                texts(r, "body"));
        assertEquals(List.of(1L, 5L, 8L), r.records().stream().map(Record::line).toList());
        assertEquals(java.util.Set.of("body"), r.records().get(0).fields().keySet());
    }

    @Test
    void fileMode() throws IOException {
        ReadResult r = reader.read(file(), JsonlReaderTest.settings("split", "file"));
        assertEquals(List.of("First line.\nSecond line\n\n   \nThird, after blanks.\n  indented fourth\n\nLast"),
                texts(r, "text"));
        assertEquals(1, r.records().get(0).line());
        Path blank = dir.resolve("blank.txt");
        Files.writeString(blank, "\n  \n\t\n");
        for (String mode : new String[] {"line", "paragraph", "file"}) {
            assertEquals(List.of(), reader.read(blank, JsonlReaderTest.settings("split", mode)).records(), mode);
        }
    }

    @Test
    void invalidUtf8() throws IOException {
        Path p = dir.resolve("bad.txt");
        Files.write(p, new byte[] {'o', 'k', '\n', 'b', (byte) 0xC3, '(', '\n', 'e', 'n', 'd', '\n'});
        DataException e = assertThrows(DataException.class, () -> reader.read(p, JsonlReaderTest.settings()));
        assertEquals(p + ":2: invalid UTF-8 (bytes 0xC3 at byte 2 of the line); save the file as UTF-8",
                e.getMessage());
        ReadResult r = reader.read(p, JsonlReaderTest.settings("skip_malformed", true, "split", "paragraph"));
        assertEquals(List.of("ok\nend"), texts(r, "text"));
        assertEquals(1, r.skipped().size());
    }

    @Test
    void settingsAndMissingFile() throws IOException {
        SettingsException s = assertThrows(SettingsException.class,
                () -> reader.read(file(), JsonlReaderTest.settings("split", "sentence")));
        assertEquals("run.yaml: split: expected line, paragraph or file, got \"sentence\"", s.getMessage());
        SettingsException u = assertThrows(SettingsException.class,
                () -> reader.read(file(), JsonlReaderTest.settings("require", List.of("text"))));
        assertEquals("run.yaml: require: unknown setting (accepted here: split, field, skip_malformed)",
                u.getMessage());
        assertEquals(s.getMessage(), assertThrows(SettingsException.class,
                () -> reader.validate(JsonlReaderTest.settings("split", "sentence"))).getMessage());
        assertEquals(u.getMessage(), assertThrows(SettingsException.class,
                () -> reader.validate(JsonlReaderTest.settings("require", List.of("text")))).getMessage());
        Path missing = dir.resolve("none.txt");
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> reader.read(missing, JsonlReaderTest.settings()));
        assertEquals(missing + ": no such file (working directory: " + Path.of("").toAbsolutePath() + ")",
                e.getMessage());
    }
}
