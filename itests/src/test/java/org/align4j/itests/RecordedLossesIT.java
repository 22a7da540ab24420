package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.lastStep;
import static org.align4j.itests.DistributionRuns.log;
import static org.align4j.itests.DistributionRuns.start;
import static org.align4j.itests.DistributionRuns.stepLosses;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * Pre-training on the shared training loop computes what the pre-training trainer computed before the loop existed:
 * the example pipeline ({@code examples/pretrain.yaml}, one thread per op, its tokenizer as recorded) gives the same
 * first 50 per-step losses, bit for bit, as the recording made with the old trainer.
 */
public class RecordedLossesIT {
    private static final int STEPS = 50;

    @Test
    public void theExampleReproducesTheRecordedLosses() throws Exception {
        Map<Long, Double> recorded = recorded();
        assertEquals(STEPS, recorded.size());

        Path dir = Align4jOptions.scratch("recorded-losses");
        Files.createDirectories(dir.resolve("run"));
        try (InputStream in = resource("tokenizer.json")) {
            Files.copy(in, dir.resolve("run/tokenizer.json")); // the run reuses it, as a resumed run would
        }
        Path pipeline = dir.resolve("pretrain.yaml");
        Files.copy(Align4jOptions.distribution().resolve("examples/pretrain.yaml"), pipeline);
        Path metrics = dir.resolve("run/metrics.jsonl");
        Process p = start(pipeline, dir.resolve("run.log"), "run.workdir=" + dir.resolve("run"),
                "stages[0].log_every=1");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (lastStep(metrics) < STEPS && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            p.destroy(); // SIGTERM: the rest of the 2000 steps is not needed
            p.waitFor(60, TimeUnit.SECONDS);
        }
        String out = log(dir.resolve("run.log"));
        assertTrue("the run did not reach step " + STEPS + ": " + out, lastStep(metrics) >= STEPS);
        assertTrue("the run did not reuse the recorded tokenizer: " + out, out.contains("tokenizer: reusing"));
        Map<Long, Double> now = stepLosses(metrics);
        List<String> differ = new ArrayList<>();
        for (long step = 1; step <= STEPS; step++) {
            if (!recorded.get(step).equals(now.get(step))) {
                differ.add("step " + step + ": recorded " + recorded.get(step) + ", now " + now.get(step));
            }
        }
        assertTrue("per-step losses differ from the recording: " + differ, differ.isEmpty());
    }

    private static Map<Long, Double> recorded() throws Exception {
        Map<Long, Double> out = new TreeMap<>();
        try (InputStream in = resource("losses-50.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                out.put(Long.parseLong(f[0]), Double.parseDouble(f[1]));
            }
        }
        return out;
    }

    private static InputStream resource(String name) {
        InputStream in = RecordedLossesIT.class.getResourceAsStream("/recorded/pretrain-example/" + name);
        if (in == null) {
            throw new IllegalStateException("test resource recorded/pretrain-example/" + name + " is missing");
        }
        return in;
    }
}
