package org.align4j.itests;

import static org.align4j.itests.DistributionRuns.command;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.align4j.itests.DistributionRuns.Ended;
import org.junit.Test;

/**
 * {@code bin/align4j check} on every pipeline file the distribution ships in {@code examples/}: each is valid against
 * the bundles it starts (every key, file and plugin name, each trainer's own check of its stage), lists its stages,
 * and nothing is run or written. A file with a mistyped key fails with exit code 2 and a message naming the key.
 */
public class ExamplesCheckIT {
    private static final long SECONDS = 120;
    private static final Pattern STAGE = Pattern.compile("(?m)^  (\\d+):([\\w-]+) -> ");

    @Test
    public void everyExampleIsValidAndCheckingRunsNothing() throws Exception {
        Path dir = Align4jOptions.scratch("examples-check");
        Path examples = Align4jOptions.distribution().resolve("examples");
        List<Path> files;
        try (Stream<Path> s = Files.list(examples)) {
            files = s.filter(f -> f.toString().endsWith(".yaml")).sorted().collect(Collectors.toList());
        }
        assertTrue("examples: " + files, files.size() >= 9);
        for (Path file : files) {
            String name = file.getFileName().toString().replace(".yaml", "");
            Path workDir = dir.resolve("run-" + name);
            Ended e = command(dir, "check-" + name, SECONDS, "check", file.toString(), "run.workdir=" + workDir);
            assertEquals(file + ":\n" + e, 0, e.exit());
            assertTrue(e.toString(), e.out().startsWith(file + ": valid. Run "));
            // the stages listed are the file's, in order, each under the work folder
            List<String> trainers = Pattern.compile("(?m)^  - trainer: ([\\w-]+)").matcher(Files.readString(file))
                    .results().map(r -> r.group(1)).collect(Collectors.toList());
            Matcher m = STAGE.matcher(e.out());
            int i = 0;
            while (m.find()) {
                assertEquals(e.toString(), String.valueOf(i), m.group(1));
                assertEquals(e.toString(), trainers.get(i), m.group(2));
                i++;
            }
            assertEquals(e.toString(), trainers.size(), i);
            assertTrue(e.toString(), e.out().contains(workDir.resolve("stage-0-" + trainers.get(0)).toString()));
            assertFalse("check wrote " + workDir, Files.exists(workDir));
        }

        // a mistyped key: exit 2, the message names it, nothing written
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, Files.readString(examples.resolve("sft.yaml"))
                .replaceFirst("(?m)^    steps: 1200$", "    stpes: 1200"));
        Ended e = command(dir, "check-broken", SECONDS, "check", broken.toString(),
                "run.workdir=" + dir.resolve("run-broken"));
        assertEquals(e.toString(), 2, e.exit());
        assertTrue(e.toString(), e.err().contains("stpes"));
        assertFalse(Files.exists(dir.resolve("run-broken")));
    }
}
