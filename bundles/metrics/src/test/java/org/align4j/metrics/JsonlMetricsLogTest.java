package org.align4j.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingEvent.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class JsonlMetricsLogTest {
    @TempDir
    Path dir;

    final ObjectMapper json = new ObjectMapper();

    private TrainingEvent.Builder event(Kind kind, String run, Path workDir) {
        return TrainingEvent.builder(kind, run).workDir(workDir).time(1_718_000_000_000L);
    }

    @Test
    void everyEventIsOneValidJsonLineFlushedAsItComes() throws Exception {
        Path run = dir.resolve("runs/tiny");
        JsonlMetricsLog log = new JsonlMetricsLog();
        log.onEvent(event(Kind.RUN_STARTED, "tiny", run).message("examples/tiny.yaml").build());
        log.onEvent(event(Kind.STEP, "tiny", run).stage("0:pretrain").step(10).totalSteps(2000)
                .metric(MetricNames.LOSS, 4.125).metric(MetricNames.LEARNING_RATE, 3.0e-5).build());
        Path file = run.resolve(JsonlMetricsLog.FILE);
        // flushed: readable while the run is still going
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size());
        JsonNode step = json.readTree(lines.get(1));
        assertEquals("STEP", step.get("kind").asText());
        assertEquals("tiny", step.get("run").asText());
        assertEquals("0:pretrain", step.get("stage").asText());
        assertEquals(10, step.get("step").asLong());
        assertEquals(2000, step.get("total_steps").asLong());
        assertEquals(1_718_000_000_000L, step.get("time").asLong());
        assertEquals(4.125, step.get("metrics").get("loss").asDouble());
        assertEquals(3.0e-5, step.get("metrics").get("learning_rate").asDouble());
        assertEquals("examples/tiny.yaml", json.readTree(lines.get(0)).get("message").asText());

        // a message with quotes and a newline, and a loss that blew up, stay valid JSON on one line
        log.onEvent(event(Kind.MESSAGE, "tiny", run).message("sample: \"12+3=\"\n15").build());
        log.onEvent(event(Kind.STEP, "tiny", run).step(11).metric(MetricNames.LOSS, Double.NaN)
                .metric(MetricNames.GRAD_NORM, Double.POSITIVE_INFINITY).build());
        log.onEvent(event(Kind.RUN_FINISHED, "tiny", run).build());
        assertEquals(0, log.openFiles());
        lines = Files.readAllLines(file);
        assertEquals(5, lines.size());
        for (String l : lines) {
            JsonNode n = json.readTree(l);
            assertTrue(n.isObject(), l);
            assertEquals(List.of("time", "kind", "run", "stage", "step", "total_steps", "metrics", "message"),
                    iterable(n));
        }
        assertEquals("sample: \"12+3=\"\n15", json.readTree(lines.get(2)).get("message").asText());
        assertEquals("NaN", json.readTree(lines.get(3)).get("metrics").get("loss").asText());
        assertEquals("Infinity", json.readTree(lines.get(3)).get("metrics").get("grad_norm").asText());
    }

    private static List<String> iterable(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void aResumedRunAppendsAndRunsKeepTheirOwnFiles() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        JsonlMetricsLog log = new JsonlMetricsLog();
        log.onEvent(event(Kind.RUN_STARTED, "a", a).build());
        log.onEvent(event(Kind.RUN_STARTED, "b", b).build());
        assertEquals(2, log.openFiles());
        log.onEvent(event(Kind.RUN_FAILED, "a", a).message("stopped: test").build());
        log.onEvent(event(Kind.RUN_STARTED, "a", a).build()); // resumed
        log.onEvent(event(Kind.STEP, "b", b).step(1).build());
        log.deactivate();
        assertEquals(0, log.openFiles());
        assertEquals(List.of("RUN_STARTED", "RUN_FAILED", "RUN_STARTED"), kinds(a.resolve(JsonlMetricsLog.FILE)));
        assertEquals(List.of("RUN_STARTED", "STEP"), kinds(b.resolve(JsonlMetricsLog.FILE)));
    }

    @Test
    void eventsWithoutADirectoryAreNotLogged() throws Exception {
        JsonlMetricsLog log = new JsonlMetricsLog();
        log.onEvent(TrainingEvent.builder(Kind.MESSAGE, "x").message("m").build());
        assertEquals(0, log.openFiles());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    private List<String> kinds(Path file) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            out.add(json.readTree(l).get("kind").asText());
        }
        return out;
    }
}
