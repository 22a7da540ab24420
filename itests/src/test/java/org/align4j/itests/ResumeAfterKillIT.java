package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.lastStep;
import static org.align4j.itests.DistributionRuns.log;
import static org.align4j.itests.DistributionRuns.start;
import static org.align4j.itests.DistributionRuns.stepLosses;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * The distribution as a user runs it: {@code bin/align4j run}, killed with SIGKILL after a checkpoint, then run again.
 * With fixed seeds and one thread per op the resumed run's per-step losses equal an uninterrupted run's. Stopped with
 * SIGTERM (Ctrl-C), it checkpoints at the step it is at, says so, exits with 3, and the next run goes on from there.
 */
public class ResumeAfterKillIT {
    private static final int STEPS = 60;

    @Test
    public void aKilledRunResumesFromItsLastCheckpointWithTheSameLosses() throws Exception {
        Path dir = Align4jOptions.scratch("resume");

        Path straight = Align4jOptions.tinyPipeline(dir.resolve("straight"), "mha", STEPS);
        Process a = start(straight, dir.resolve("straight.log"));
        assertTrue("the uninterrupted run did not finish", a.waitFor(240, TimeUnit.SECONDS));
        assertEquals(log(dir.resolve("straight.log")), 0, a.exitValue());
        Map<Long, Double> expected = stepLosses(dir.resolve("straight/run/metrics.jsonl"));
        assertEquals(STEPS, expected.size());

        Path killedFile = Align4jOptions.tinyPipeline(dir.resolve("killed"), "mha", STEPS);
        Process b = start(killedFile, dir.resolve("killed-1.log"));
        Path checkpoint = dir.resolve("killed/run/stage-0-pretrain/checkpoint-20");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!Files.isDirectory(checkpoint) && b.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue("no checkpoint-20 before the kill: " + log(dir.resolve("killed-1.log")), Files.isDirectory(checkpoint));
        b.destroyForcibly(); // SIGKILL
        b.waitFor(60, TimeUnit.SECONDS);
        Map<Long, Double> beforeKill = stepLosses(dir.resolve("killed/run/metrics.jsonl"));
        assertTrue("killed too late to test anything: " + beforeKill.size() + " steps", beforeKill.size() < STEPS);

        Process c = start(killedFile, dir.resolve("killed-2.log"));
        assertTrue("the resumed run did not finish", c.waitFor(240, TimeUnit.SECONDS));
        String resumedLog = log(dir.resolve("killed-2.log"));
        assertEquals(resumedLog, 0, c.exitValue());
        assertTrue("the second run did not resume: " + resumedLog, resumedLog.contains("resuming from"));

        Map<Long, Double> resumed = stepLosses(dir.resolve("killed/run/metrics.jsonl"));
        assertEquals(STEPS, resumed.size());
        List<String> differ = new ArrayList<>();
        for (long step = 1; step <= STEPS; step++) {
            double d = Math.abs(expected.get(step) - resumed.get(step));
            if (d > 1e-4) {
                differ.add("step " + step + ": " + expected.get(step) + " vs " + resumed.get(step));
            }
        }
        assertTrue("per-step losses differ: " + differ, differ.isEmpty());
    }

    @Test
    public void aTerminatedRunCheckpointsWhereItIsExitsWith3AndResumes() throws Exception {
        Path dir = Align4jOptions.scratch("terminate");
        Path file = Align4jOptions.tinyPipeline(dir.resolve("t"), "mha", 150);
        Path metrics = dir.resolve("t/run/metrics.jsonl");
        Process p = start(file, dir.resolve("t-1.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (lastStep(metrics) < 25 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the run did not reach step 25: " + log(dir.resolve("t-1.log")), lastStep(metrics) >= 25);
        p.destroy(); // SIGTERM, as Ctrl-C or a scheduler's stop would be
        assertTrue("the run did not stop within 60 s of SIGTERM", p.waitFor(60, TimeUnit.SECONDS));
        String first = log(dir.resolve("t-1.log"));
        assertEquals(first, 3, p.exitValue());
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("stopped at step (\\d+) \\(align4j is shutting down\\); checkpoint (\\S+);").matcher(first);
        assertTrue("the trainer did not say where it stopped: " + first, m.find());
        long stoppedAt = Long.parseLong(m.group(1));
        assertTrue(first, stoppedAt >= 25 && stoppedAt < 150);
        assertTrue(first, Files.isDirectory(dir.resolve("t/run/stage-0-pretrain/checkpoint-" + stoppedAt)));
        assertTrue(first, first.contains("run tiny stopped in "));
        assertTrue(first, first.contains("): align4j is shutting down"));
        assertTrue(first, first.contains("to resume, run the same pipeline again"));
        assertTrue("the framework cache of the stopped process is left: " + first,
                Files.list(dir.resolve("t/data")).noneMatch(c -> c.getFileName().toString().startsWith("felix-cache")));

        Process again = start(file, dir.resolve("t-2.log"));
        assertTrue("the resumed run did not finish", again.waitFor(240, TimeUnit.SECONDS));
        String second = log(dir.resolve("t-2.log"));
        assertEquals(second, 0, again.exitValue());
        assertTrue(second, second.contains("resuming from") && second.contains("checkpoint-" + stoppedAt));
        assertTrue(second, second.contains("stage 0:pretrain completed at step 150"));
        assertEquals(150, stepLosses(metrics).size());
    }
}
