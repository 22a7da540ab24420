package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.command;
import static org.align4j.itests.DistributionRuns.commandWithOptions;
import static org.align4j.itests.DistributionRuns.log;
import static org.align4j.itests.DistributionRuns.start;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.itests.DistributionRuns.Ended;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The reward-model commands of {@code bin/align4j} as a user runs them, on folders a tiny run of the distribution
 * wrote (a pre-trained policy and a pairwise reward model): {@code align4j package-reward} makes a bundle of the
 * reward model; dropped into the {@code deploy/} folder of a fresh {@code align4j best-of-n}, it scores that command's
 * samples, which come back best first with their rewards and the model's name and version. A reward model that is
 * not there fails the command with a message naming it, and no stack trace.
 */
public class BestOfNCommandIT {
    private static final long SECONDS = 180;
    private static final Pattern STACK = Pattern.compile("(?m)^\\s+at [\\w.$]+\\(|\\w+(Exception|Error):");

    private static Path dir;
    private static Path policy;
    private static Path rewardModel;

    @BeforeClass
    public static void tinyRun() throws Exception {
        dir = Align4jOptions.scratch("best-of-n-command");
        Random r = new Random(11);
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            int a = r.nextInt(10);
            int b = r.nextInt(10);
            pairs.add("{\"prompt\": \"" + a + "+" + b + "=\", \"chosen\": \"" + (a + b) + "\", \"rejected\": \""
                    + (a + b + 1 + r.nextInt(5)) + "\"}");
        }
        Files.write(dir.resolve("pairs.jsonl"), pairs);
        Path file = dir.resolve("pipeline.yaml");
        String runLine = "run: { name: tiny-rm, workdir: '" + dir.resolve("run") + "', seed: 5 }";
        Files.writeString(file, Align4jOptions.tinyRewardPipeline(runLine, 16,
                "    data: { train: '" + dir.resolve("pairs.jsonl") + "' }",
                "    loss: bradley-terry",
                "    optimizer: { name: adamw, lr: 3.0e-3 }",
                "    steps: 10",
                "    batch: 8"));
        Process p = start(file, dir.resolve("run.log"));
        assertTrue("the tiny run did not finish in " + SECONDS + " s", p.waitFor(SECONDS, TimeUnit.SECONDS));
        assertEquals(log(dir.resolve("run.log")), 0, p.exitValue());
        policy = dir.resolve("run/stage-0-pretrain/model");
        rewardModel = dir.resolve("run/stage-1-reward/model");
        assertTrue(Files.isRegularFile(policy.resolve("model.safetensors")));
        assertTrue(log(dir.resolve("run.log")), Files.isRegularFile(rewardModel.resolve("model.safetensors")));
    }

    @Test
    public void aPackagedRewardModelInDeployScoresTheSamplesOfAFreshCommand() throws Exception {
        Path deploy = Files.createDirectories(dir.resolve("deploy"));
        Ended pack = command(dir, "package", SECONDS, "package-reward", rewardModel.toString(), "--name", "cli-rm",
                "--version", "1.2", "--out", deploy.resolve("cli-rm-1.2.jar").toString());
        assertEquals(pack.toString(), 0, pack.exit());
        assertTrue(pack.toString(), Files.isRegularFile(deploy.resolve("cli-rm-1.2.jar")));

        // a fresh framework: the jar in deploy/ registers while the command samples, and then scores
        Ended bon = commandWithOptions(dir, "best-of-n", SECONDS, "-Dfelix.fileinstall.dir=" + deploy, "best-of-n",
                policy.toString(), "--reward", "cli-rm", "-n", "4", "--max-tokens", "4", "--seed", "3", "3+4=");
        assertEquals(bon.toString(), 0, bon.exit());
        assertTrue(bon.toString(), bon.out().startsWith("best of 4 by reward model cli-rm 1.2 ["));
        Matcher m = Pattern.compile("(?m)^--- (best|rank \\d) \\(sample (\\d), reward (-?[0-9.]+), \\d+ tokens\\)")
                .matcher(bon.out());
        List<Double> rewards = new ArrayList<>();
        List<String> samples = new ArrayList<>();
        while (m.find()) {
            rewards.add(Double.parseDouble(m.group(3)));
            samples.add(m.group(2));
        }
        assertEquals(bon.toString(), 4, rewards.size());
        assertEquals(bon.toString(), 4, samples.stream().distinct().count());
        for (int i = 1; i < rewards.size(); i++) {
            assertTrue("best first: " + rewards, rewards.get(i - 1) >= rewards.get(i));
        }
        assertFalse(bon.toString(), STACK.matcher(bon.err()).find());

        // a name nobody registered: a message naming it, a non-zero exit, no stack trace
        // (after waiting 30 s for it to register)
        Ended none = commandWithOptions(dir, "best-of-n-missing", SECONDS, "-Dfelix.fileinstall.dir=" + deploy,
                "best-of-n", policy.toString(), "--reward", "no-such-rm", "-n", "2", "--max-tokens", "2", "3+4=");
        assertNotEquals(none.toString(), 0, none.exit());
        assertTrue(none.toString(), none.err().contains("align4j best-of-n: --reward no-such-rm: no reward model"
                + " named \"no-such-rm\"")
                && none.err().contains("cli-rm 1.2") && none.err().contains("(waited 30 s for it to register)"));
        assertFalse(none.toString(), STACK.matcher(none.err()).find());
    }
}
