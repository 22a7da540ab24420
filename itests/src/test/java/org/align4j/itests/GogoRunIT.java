package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * {@code align4j:run} typed in Gogo as a new user types it: {@code stages[0].steps=3} (which Gogo splits at its list
 * brackets) and {@code stages.0.steps=3} both override the file; a missing file or a bad override is answered with a
 * sentence on the session's error stream, never an exception class name.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class GogoRunIT {
    @Inject
    private CommandProcessor gogo;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("gogo-run");
    }

    /** What a command line gives: its value, and what it printed. */
    record Typed(Object value, String printed) {
    }

    private Typed type(String line) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (CommandSession session = gogo.createSession(new ByteArrayInputStream(new byte[0]), print, print)) {
            Object value = session.execute(line);
            return new Typed(value, out.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    public void overridesWithBracketsOrDotsRunAndMistakesAreSentences() throws Exception {
        Path dir = Align4jOptions.scratch("gogo-run");
        for (String form : new String[] {"stages[0].steps=3", "stages.0.steps=4"}) {
            Path run = dir.resolve(form.contains("[") ? "brackets" : "dots");
            Path file = Align4jOptions.tinyPipeline(run, "mha", 50);
            Typed t = type("align4j:run " + file + " " + form);
            assertTrue(t.printed(), String.valueOf(t.value()).contains("completed"));
            String steps = form.substring(form.indexOf('=') + 1);
            String log = Files.readString(run.resolve("run/metrics.jsonl"));
            assertTrue(log, log.contains("\"kind\":\"STAGE_FINISHED\"") && log.contains("\"step\":" + steps + ","));
            assertTrue(log, !log.contains("\"step\":" + (Integer.parseInt(steps) + 1) + ","));
        }

        Typed missing = type("align4j:run " + dir.resolve("none.yaml"));
        assertNull(missing.value());
        assertEquals("align4j:run: " + dir.resolve("none.yaml") + ": no such file (relative paths are resolved against"
                + " the working directory " + Path.of("").toAbsolutePath() + ")", missing.printed().trim());

        Path file = Align4jOptions.tinyPipeline(dir.resolve("bad"), "mha", 5);
        Typed bad = type("align4j:run " + file + " stages.3.steps=1");
        assertNull(bad.value());
        assertTrue(bad.printed(), bad.printed().startsWith("align4j:run: ") && bad.printed().contains(
                "stages has 1 entry, so [3] is out of range") && !bad.printed().contains("Exception"));
    }
}
