package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Json#write}: a JSONL file written whole, replaced whole, and no temporary file left either way. */
class JsonTest {
    @TempDir
    Path dir;

    @Test
    void aFileIsWrittenAndReplacedWholeWithNoTemporaryFileLeft() throws Exception {
        Path file = dir.resolve("a/b/answers.jsonl");
        Json.write(file, "{\"x\":" + Json.string("é\n") + "}\n");
        assertEquals(List.of("{\"x\":\"é\\n\"}"), Files.readAllLines(file));
        Json.write(file, "{\"x\":1}\n{\"x\":2}\n");
        assertEquals(List.of("{\"x\":1}", "{\"x\":2}"), Files.readAllLines(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void aFailedWriteLeavesNoTemporaryFile() throws Exception {
        Path taken = Files.createDirectories(dir.resolve("answers.jsonl").resolve("child")).getParent();
        assertThrows(IOException.class, () -> Json.write(taken, "{}\n"));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(taken), files.toList(), "only the folder that was in the way");
        }
    }
}
