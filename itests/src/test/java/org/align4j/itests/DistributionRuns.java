package org.align4j.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Runs of the assembled distribution's {@code bin/align4j} as a user starts them, and what they log. */
final class DistributionRuns {
    private DistributionRuns() {
    }

    /**
     * Starts {@code bin/align4j run <pipeline> [overrides]} with one thread per op (so runs are reproducible), its
     * output in {@code logFile} and its caches beside the pipeline file.
     */
    static Process start(Path pipeline, Path logFile, String... overrides) throws IOException {
        Path dist = Align4jOptions.distribution();
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/align4j").toString(), "run",
                pipeline.toString()));
        cmd.addAll(List.of(overrides));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ALIGN4J_OPTS", "-Xmx2g -Dalign4j.tensorflow.intraOpThreads=1"
                + " -Dalign4j.tensorflow.interOpThreads=1"
                + " -Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir"));
        pb.environment().put("ALIGN4J_DATA", pipeline.getParent().resolve("data").toString());
        pb.redirectErrorStream(true).redirectOutput(logFile.toFile());
        return pb.start();
    }

    /** The highest step logged so far; the last line may be half written. */
    static long lastStep(Path metrics) throws IOException {
        if (!Files.exists(metrics)) {
            return 0;
        }
        long last = 0;
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(metrics)) {
            try {
                JsonNode e = json.readTree(line);
                if (e != null && "STEP".equals(e.path("kind").asText())) {
                    last = Math.max(last, e.path("step").asLong());
                }
            } catch (IOException partial) {
                // the writer is mid-line
            }
        }
        return last;
    }

    /** The last loss logged for each step: a resumed run appends to the log of the run it resumes. */
    static Map<Long, Double> stepLosses(Path metrics) throws IOException {
        return stepLosses(metrics, null);
    }

    /** Like {@link #stepLosses(Path)}, for the stage labelled {@code stage} only ({@code null}: every stage). */
    static Map<Long, Double> stepLosses(Path metrics, String stage) throws IOException {
        Map<Long, Double> out = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode e;
            try {
                e = json.readTree(line);
            } catch (IOException partial) {
                continue; // a killed writer's last line
            }
            if ("STEP".equals(e.path("kind").asText()) && (stage == null || stage.equals(e.path("stage").asText()))) {
                out.put(e.path("step").asLong(), e.path("metrics").path("loss").asDouble());
            }
        }
        return out;
    }

    static String log(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "(no log)";
    }

    /** How a command of {@code bin/align4j} ended: its exit status, standard output and standard error. */
    record Ended(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /**
     * Runs {@code bin/align4j generate <args>} to its end (one thread per op, caches in {@code dir/data}), standard
     * output and error kept apart in {@code dir/<name>.out} and {@code .err}; fails after {@code seconds}.
     */
    static Ended generate(Path dir, String name, long seconds, String... args) throws IOException,
            InterruptedException {
        return command(dir, name, seconds, "generate", args);
    }

    /** Runs {@code bin/align4j <command> [args]} as {@link #generate} does, for any command. */
    static Ended command(Path dir, String name, long seconds, String command, String... args) throws IOException,
            InterruptedException {
        return commandWithOptions(dir, name, seconds, "", command, args);
    }

    /** {@link #command(Path, String, long, String, String...)} with more JVM options ({@code -Dx=y ...}). */
    static Ended commandWithOptions(Path dir, String name, long seconds, String jvmOptions, String command,
            String... args)
            throws IOException, InterruptedException {
        Path dist = Align4jOptions.distribution();
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/align4j").toString(), command));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ALIGN4J_OPTS", "-Xmx1g -Dalign4j.tensorflow.intraOpThreads=1"
                + " -Dalign4j.tensorflow.interOpThreads=1"
                + " -Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir") + " "
                + jvmOptions);
        pb.environment().put("ALIGN4J_DATA", dir.resolve("data").toString());
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(seconds, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            throw new AssertionError("align4j " + command + " " + List.of(args) + " did not end within " + seconds
                    + " s: "
                    + log(out) + log(err));
        }
        return new Ended(p.exitValue(), log(out), log(err));
    }
}
