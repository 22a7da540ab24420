package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.log;
import static org.align4j.itests.DistributionRuns.start;
import static org.align4j.itests.DistributionRuns.stepLosses;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The SIGKILL and SIGTERM resume guarantees of {@link ResumeAfterKillIT}, for a pipeline of two stages as a user runs
 * it with {@code bin/align4j run} (one thread per op): a tiny pre-training stage, then a tiny SFT stage started from
 * it. A run killed during the SFT stage, run again, goes on with the SFT stage from its last checkpoint (the completed
 * pre-training stage is not trained again) and logs the same per-step SFT losses as an uninterrupted run; a run
 * stopped with SIGTERM during the SFT stage checkpoints there, exits with 3, and its rerun completes with the same
 * losses.
 */
public class SftResumeIT {
    private static final int PRETRAIN_STEPS = 30;
    private static final int SFT_STEPS = 200; // about 4 ms a step here: room to kill between checkpoint-20 and the end
    private static final String PRETRAIN = "0:pretrain";
    private static final String SFT = "1:sft";
    private static final long WAIT_SECONDS = 300;

    /** The uninterrupted run's per-step SFT losses. */
    private static Map<Long, Double> expected;

    @BeforeClass
    public static void uninterruptedRun() throws Exception {
        Path dir = Align4jOptions.scratch("sft-resume-straight");
        Path file = Align4jOptions.tinySftPipeline(dir, PRETRAIN_STEPS, SFT_STEPS);
        Process p = start(file, dir.resolve("run.log"));
        assertTrue("the uninterrupted run did not finish in " + WAIT_SECONDS + " s",
                p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(log(dir.resolve("run.log")), 0, p.exitValue());
        Path metrics = dir.resolve("run/metrics.jsonl");
        assertEquals(PRETRAIN_STEPS, stepLosses(metrics, PRETRAIN).size());
        expected = stepLosses(metrics, SFT);
        assertEquals(SFT_STEPS, expected.size());
    }

    @Test
    public void aRunKilledDuringSftResumesSftNotPretrainingWithTheSameLosses() throws Exception {
        Path dir = Align4jOptions.scratch("sft-resume-killed");
        Path file = Align4jOptions.tinySftPipeline(dir, PRETRAIN_STEPS, SFT_STEPS);
        Path metrics = dir.resolve("run/metrics.jsonl");
        Process first = start(file, dir.resolve("run-1.log"));
        Path checkpoint = dir.resolve("run/stage-1-sft/checkpoint-20");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!Files.isDirectory(checkpoint) && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("no SFT checkpoint-20 before the kill: " + log(dir.resolve("run-1.log")),
                Files.isDirectory(checkpoint));
        first.destroyForcibly(); // SIGKILL
        assertTrue("the killed run did not end", first.waitFor(60, TimeUnit.SECONDS));
        Map<Long, Double> beforeKill = stepLosses(metrics, SFT);
        assertTrue("killed too late to test anything: " + beforeKill.size() + " SFT steps",
                beforeKill.size() < SFT_STEPS);
        assertEquals("pre-training completed before the kill", PRETRAIN_STEPS, stepLosses(metrics, PRETRAIN).size());
        long linesBefore = Files.readAllLines(metrics).size();

        Process second = start(file, dir.resolve("run-2.log"));
        assertTrue("the rerun did not finish in " + WAIT_SECONDS + " s",
                second.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        String rerun = log(dir.resolve("run-2.log"));
        assertEquals(rerun, 0, second.exitValue());
        assertTrue("the rerun did not resume the SFT stage from its checkpoint: " + rerun,
                rerun.contains("resuming from " + checkpoint + " at step 20"));
        assertTrue("the rerun did not take the completed pre-training stage as it was: " + rerun,
                rerun.contains("already completed at step " + PRETRAIN_STEPS + " ("
                        + dir.resolve("run/stage-0-pretrain/checkpoint-" + PRETRAIN_STEPS) + ")"));
        List<JsonNode> appended = events(metrics, linesBefore);
        List<String> pretrainSteps = new ArrayList<>();
        List<Long> sftSteps = new ArrayList<>();
        for (JsonNode e : appended) {
            if ("STEP".equals(e.path("kind").asText())) {
                if (PRETRAIN.equals(e.path("stage").asText())) {
                    pretrainSteps.add(e.toString());
                } else if (SFT.equals(e.path("stage").asText())) {
                    sftSteps.add(e.path("step").asLong());
                }
            }
        }
        assertTrue("the rerun trained the completed pre-training stage again: " + pretrainSteps,
                pretrainSteps.isEmpty());
        assertEquals("the rerun's SFT steps: " + sftSteps, SFT_STEPS - 20, sftSteps.size());
        assertEquals("the rerun's first SFT step", 21L, (long) sftSteps.get(0));

        assertSameLosses(stepLosses(metrics, SFT));
    }

    @Test
    public void aRunTerminatedDuringSftCheckpointsWhereItIsExitsWith3AndItsRerunCompletes() throws Exception {
        Path dir = Align4jOptions.scratch("sft-resume-terminated");
        Path file = Align4jOptions.tinySftPipeline(dir, PRETRAIN_STEPS, SFT_STEPS);
        Path metrics = dir.resolve("run/metrics.jsonl");
        Process first = start(file, dir.resolve("run-1.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (lastStep(metrics, SFT) < 5 && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue("the run did not reach SFT step 5: " + log(dir.resolve("run-1.log")), lastStep(metrics, SFT) >= 5);
        first.destroy(); // SIGTERM, as Ctrl-C or a scheduler's stop would be
        assertTrue("the run did not stop within 60 s of SIGTERM", first.waitFor(60, TimeUnit.SECONDS));
        String stopped = log(dir.resolve("run-1.log"));
        assertEquals(stopped, 3, first.exitValue());
        Matcher m = Pattern.compile("stopped at step (\\d+) \\(align4j is shutting down\\); checkpoint (\\S+);")
                .matcher(stopped);
        assertTrue("the SFT trainer did not say where it stopped: " + stopped, m.find());
        long stoppedAt = Long.parseLong(m.group(1));
        assertTrue("stopped at SFT step " + stoppedAt + ": " + stopped, stoppedAt >= 5 && stoppedAt < SFT_STEPS);
        Path checkpoint = dir.resolve("run/stage-1-sft/checkpoint-" + stoppedAt);
        assertEquals(stopped, checkpoint.toString(), m.group(2));
        assertTrue(stopped, Files.isDirectory(checkpoint));
        assertEquals("SFT steps logged before the stop", stoppedAt, lastStep(metrics, SFT));
        assertTrue(stopped, stopped.contains("to resume, run the same pipeline again"));

        Process second = start(file, dir.resolve("run-2.log"));
        assertTrue("the rerun did not finish in " + WAIT_SECONDS + " s",
                second.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        String rerun = log(dir.resolve("run-2.log"));
        assertEquals(rerun, 0, second.exitValue());
        assertTrue(rerun, rerun.contains("resuming from " + checkpoint + " at step " + stoppedAt));
        assertTrue(rerun, rerun.contains("stage 1:sft completed at step " + SFT_STEPS));
        assertEquals("STEP lines of the pre-training stage (more: the rerun trained it again)", PRETRAIN_STEPS,
                stepLines(metrics, PRETRAIN));
        assertSameLosses(stepLosses(metrics, SFT));
    }

    private static void assertSameLosses(Map<Long, Double> resumed) {
        assertEquals(SFT_STEPS, resumed.size());
        List<String> differ = new ArrayList<>();
        for (long step = 1; step <= SFT_STEPS; step++) {
            double d = Math.abs(expected.get(step) - resumed.get(step));
            if (!(d <= 1e-4)) {
                differ.add("step " + step + ": " + expected.get(step) + " vs " + resumed.get(step));
            }
        }
        assertTrue("per-step SFT losses differ from the uninterrupted run's: " + differ, differ.isEmpty());
    }

    /** The highest step logged so far for {@code stage}. */
    private static long lastStep(Path metrics, String stage) throws IOException {
        if (!Files.exists(metrics)) {
            return 0;
        }
        return stepLosses(metrics, stage).keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** How many STEP lines {@code stage} has in the log, repeats included (a retrained stage logs its steps again). */
    private static long stepLines(Path metrics, String stage) throws IOException {
        return events(metrics, 0).stream().filter(e -> "STEP".equals(e.path("kind").asText())
                && stage.equals(e.path("stage").asText())).count();
    }

    /** The events logged from line {@code from} (0-based) on; a half-written line (a killed writer's) is left out. */
    private static List<JsonNode> events(Path metrics, long from) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(metrics);
        List<JsonNode> out = new ArrayList<>();
        for (String line : lines.subList((int) from, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(json.readTree(line));
            } catch (IOException partial) {
                // the killed run's last line
            }
        }
        return out;
    }
}
