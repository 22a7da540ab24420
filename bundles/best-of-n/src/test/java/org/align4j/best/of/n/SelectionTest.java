package org.align4j.best.of.n;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Which completion best-of-N keeps, and the rejection-sampling file it writes. */
class SelectionTest {
    @TempDir
    Path dir;

    @Test
    void theHighestScoreWinsTheEarliestOfEqualOnesAndNaNNever() {
        float nan = Float.NaN;
        float[] scores = {9, 9, 0.5f, 2, 2, 1, nan, -3, nan, -1000, nan, nan};
        assertEquals(0, Selection.best(scores, 0, 2), "ties: the earliest sample");
        assertEquals(1, Selection.best(scores, 2, 3), "2 beats 0.5, and the first 2 beats the second");
        assertEquals(0, Selection.best(scores, 5, 3), "a NaN after the best changes nothing");
        assertEquals(1, Selection.best(scores, 6, 3), "a NaN first loses to -3, and -3 to no later NaN");
        assertEquals(1, Selection.best(scores, 8, 2), "a NaN first loses to -1000");
        assertEquals(0, Selection.best(scores, 10, 2), "all NaN: the first");
        assertEquals(0, Selection.best(scores, 3, 1), "one sample");
    }

    @Test
    void theBestCompletionsAreAPromptCompletionDataset() throws Exception {
        Path folder = dir.resolve("best-of-n");
        BestOfNStage.write(folder, List.of("Q: 1+2=?\n", "say \"hi\"\t"), List.of("1. 1+2=3\nA: 3", "\\ok\u0001"));
        List<String> lines = Files.readAllLines(folder.resolve("best.jsonl"));
        assertEquals(2, lines.size());
        JsonNode second = new ObjectMapper().readTree(lines.get(1));
        assertEquals("say \"hi\"\t", second.get("prompt").asText());
        assertEquals("\\ok\u0001", second.get("completion").asText());
        assertEquals("1. 1+2=3\nA: 3", new ObjectMapper().readTree(lines.get(0)).get("completion").asText());
        try (var files = Files.list(folder)) {
            assertEquals(List.of(folder.resolve("best.jsonl")), files.toList(), "no temporary file is left");
        }
    }
}
