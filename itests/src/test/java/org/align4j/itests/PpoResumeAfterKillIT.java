package org.align4j.itests;

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
 * A PPO run as a user runs it ({@code bin/align4j run}), killed with SIGKILL inside an iteration (after the checkpoint
 * at step 5, after the first of the second iteration's four updates; the checkpoints at 10 and 15 are inside
 * iterations too) and run again: it resumes from that checkpoint,
 * with the rollout it was training on, and its per-step losses continue those of an uninterrupted run.
 */
public class PpoResumeAfterKillIT {
    private static final int STEPS = 40;
    private static final String STAGE = "1:ppo";

    /** A tiny pre-training stage and a PPO stage on the verifier: 4 updates per iteration, a checkpoint every 5. */
    private static Path pipeline(Path dir) throws Exception {
        String yaml = Align4jOptions.tinyPretrainThen("run: { name: ppo-kill, workdir: '" + dir.resolve("run")
                + "', seed: 5 }", 32,
                "  - trainer: ppo",
                "    init: stage-0",
                "    data:",
                "      generate: { name: arithmetic, format: prompt-completion, max_operand: 9, count: 200 }",
                "      validation_fraction: 0",
                "    reward_model: arithmetic-verifier",
                "    loss: ppo-clip",
                "    rollout: { prompts: 4, samples: 2, max_tokens: 12 }",
                "    epochs: 2",
                "    batch: 4",
                "    optimizer: { name: adamw, lr: 1.0e-3, schedule: constant }",
                "    steps: " + STEPS,
                "    checkpoint: { every: 5, keep: 2 }",
                "    exact_match: { samples: 0 }");
        Files.createDirectories(dir);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    public void aPpoRunKilledInsideAnIterationResumesWithTheSameLosses() throws Exception {
        Path dir = Align4jOptions.scratch("ppo-kill");
        Process a = start(pipeline(dir.resolve("straight")), dir.resolve("straight.log"));
        assertTrue("the uninterrupted run did not finish", a.waitFor(240, TimeUnit.SECONDS));
        assertEquals(log(dir.resolve("straight.log")), 0, a.exitValue());
        Map<Long, Double> expected = stepLosses(dir.resolve("straight/run/metrics.jsonl"), STAGE);
        assertEquals(STEPS, expected.size());

        Path killed = pipeline(dir.resolve("killed"));
        Process b = start(killed, dir.resolve("killed-1.log"));
        Path checkpoint = dir.resolve("killed/run/stage-1-ppo/checkpoint-5");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!Files.isDirectory(checkpoint) && b.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("no checkpoint-5 before the kill: " + log(dir.resolve("killed-1.log")),
                Files.isDirectory(checkpoint));
        b.destroyForcibly(); // SIGKILL
        b.waitFor(60, TimeUnit.SECONDS);
        Map<Long, Double> beforeKill = stepLosses(dir.resolve("killed/run/metrics.jsonl"), STAGE);
        assertTrue("killed too late to test anything: " + beforeKill.size() + " steps", beforeKill.size() < STEPS);

        Process c = start(killed, dir.resolve("killed-2.log"));
        assertTrue("the resumed run did not finish", c.waitFor(240, TimeUnit.SECONDS));
        String resumedLog = log(dir.resolve("killed-2.log"));
        assertEquals(resumedLog, 0, c.exitValue());
        assertTrue("the second run did not resume inside an iteration: " + resumedLog, resumedLog.matches(
                "(?s).*resuming from \\S+checkpoint-(5|10|15) at step.*"));

        Map<Long, Double> resumed = stepLosses(dir.resolve("killed/run/metrics.jsonl"), STAGE);
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
}
