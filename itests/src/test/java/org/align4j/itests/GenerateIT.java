package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.generate;
import static org.align4j.itests.DistributionRuns.log;
import static org.align4j.itests.DistributionRuns.start;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.align4j.itests.DistributionRuns.Ended;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * {@code bin/align4j generate <model-folder> "<prompt>" [options]} as a user runs it, on the model folder a tiny
 * pre-training run wrote: greedy generation prints the prompt and its continuation and exits 0; a bad option exits 2
 * with a message naming the option; a folder that is not a model exits non-zero with a message naming the folder.
 * None of them prints a stack trace.
 */
public class GenerateIT {
    private static final long SECONDS = 120;
    /** A line of a Java stack trace, or an exception's class name: what a user should never see. */
    private static final Pattern STACK = Pattern.compile("(?m)^\\s+at [\\w.$]+\\(|\\w+(Exception|Error):");

    private static Path dir;
    private static Path run;
    private static Path model;

    @BeforeClass
    public static void tinyRun() throws Exception {
        dir = Align4jOptions.scratch("generate");
        Path file = Align4jOptions.tinyPipeline(dir.resolve("tiny"), "mha", 20);
        Process p = start(file, dir.resolve("run.log"));
        assertTrue("the tiny run did not finish in " + SECONDS + " s", p.waitFor(SECONDS, TimeUnit.SECONDS));
        assertEquals(log(dir.resolve("run.log")), 0, p.exitValue());
        run = dir.resolve("tiny/run");
        model = run.resolve("stage-0-pretrain/model");
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));
    }

    @Test
    public void greedyGenerationPrintsThePromptAndItsContinuation() throws Exception {
        Ended a = generate(dir, "greedy-1", SECONDS, model.toString(), "3+", "--greedy", "--max-tokens", "8");
        assertEquals(a.toString(), 0, a.exit());
        assertTrue(a.toString(), a.out().startsWith("3+"));
        assertTrue(a.toString(), a.out().endsWith("\n"));
        assertTrue("no continuation: " + a, a.out().length() > "3+\n".length());
        assertFalse(a.toString(), STACK.matcher(a.err()).find());

        // greedy is deterministic: the same command prints the same text
        Ended b = generate(dir, "greedy-2", SECONDS, model.toString(), "3+", "--greedy", "--max-tokens", "8");
        assertEquals(b.toString(), 0, b.exit());
        assertEquals(a.out(), b.out());
    }

    @Test
    public void badOptionsExit2WithAMessageNamingTheOption() throws Exception {
        Ended zero = generate(dir, "bad-max-tokens", SECONDS, model.toString(), "3+", "--greedy", "--max-tokens", "0");
        assertEquals(zero.toString(), 2, zero.exit());
        assertTrue(zero.toString(), zero.err().contains("align4j generate: --max-tokens: expected an integer >= 1,"
                + " got \"0\""));
        assertEquals(zero.toString(), "", zero.out());
        assertFalse(zero.toString(), STACK.matcher(zero.err()).find());

        Ended typo = generate(dir, "bad-option", SECONDS, model.toString(), "3+", "--temprature", "0.5");
        assertEquals(typo.toString(), 2, typo.exit());
        assertTrue(typo.toString(), typo.err().contains("align4j generate: unknown option \"--temprature\""));
        assertEquals(typo.toString(), "", typo.out());
        assertFalse(typo.toString(), STACK.matcher(typo.err()).find());
    }

    @Test
    public void aFolderThatIsNotAModelExitsNonZeroWithAMessageNamingIt() throws Exception {
        Path empty = dir.resolve("empty-folder");
        Files.createDirectories(empty);
        Path missing = dir.resolve("no-such-folder");
        // the run's workdir holds tokenizer.json, but the model is in stage-0-pretrain/model
        for (Path folder : new Path[] {empty, missing, run}) {
            Ended e = generate(dir, "not-a-model-" + folder.getFileName(), SECONDS, folder.toString(), "3+",
                    "--greedy", "--max-tokens", "8");
            assertNotEquals(e.toString(), 0, e.exit());
            assertTrue("the message does not name " + folder + ": " + e,
                    e.err().contains("align4j generate: " + folder + ": "));
            assertTrue("the message does not say what a model folder is: " + e, e.err().contains("model folder"));
            assertEquals(e.toString(), "", e.out());
            assertFalse(e.toString(), STACK.matcher(e.err()).find());
        }
    }
}
