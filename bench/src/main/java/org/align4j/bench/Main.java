package org.align4j.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.align4j.api.model.ModelConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The benchmark driver: trains the benchmark's model ({@link BenchModel}) through the align4j distribution and in
 * plain TensorFlow Java ({@link PlainTrain}) and, as the peer a Java user would otherwise pick, in DJL on PyTorch's
 * CPU engine ({@link DjlTrain}), alternating (align4j, plain, djl, align4j, ...), each run in a JVM of its own, and
 * prints the training tokens per second of each side (median of the runs, spread), the ratios to align4j, the
 * model FLOPs utilisation against a large matrix product ({@link MatmulPeak}) and the peak memory of each run.
 * Writes the same figures to {@code bench/target/bench-result.json}. Both model sizes ({@link BenchModel.Size}) are
 * measured in one invocation, the small one's rounds first.
 *
 * <pre>
 * bench/run [--rounds 3] [--steps 30] [--warmup 5] [--threads N] [--docs 5000] [--matmul 2048] [--only align4j,plain]
 *           [--sizes small,large]
 * </pre>
 */
public final class Main {
    /** The goal for align4j / plain. */
    static final double GOAL = 0.97;
    /** The goal for align4j / DJL on PyTorch (issue step 7). */
    static final double PEER_GOAL = 1.10;
    private static final String USAGE = String.join("\n",
            "usage: bench/run [options]",
            "  --rounds N     runs of each side, in turn: align4j, plain, djl, ..., even rounds reversed (default 3)",
            "  --steps N      optimizer steps per run (default 30)",
            "  --warmup N     first steps of each run left out of its figures (default 5)",
            "  --threads N    intra-op threads N, inter-op threads 1 on every side (default 0: each engine's choice)",
            "  --docs N       documents of the arithmetic corpus the align4j side generates (default 5000)",
            "  --matmul N     size of the square fp32 matmul MFU is relative to (default 2048; 0: no MFU)",
            "  --matmul-reps N  timed repetitions of it (default 5; median)",
            "  --only SIDES   align4j, plain, djl, bf16, or several separated by a comma: run those sides only",
            "  --bf16         also run align4j with model.precision: bf16 (side bf16), reported separately, and time",
            "                 the matmul in bfloat16 too",
            "  --sizes LIST   model sizes to measure, in order: small (4 layers, d_model 256, context 128, batch 16),",
            "                 large (6 layers, d_model 512, context 256, batch 8) (default small,large)",
            "  --align4j PATH the distribution's bin/align4j (default <repo>/distribution/target/align4j/bin/align4j)",
            "  --out FILE     the JSON result (default bench/target/bench-result.json)",
            "  --timeout S    seconds a child may run before it is stopped (default 3600)",
            "  --keep         keep the align4j runs' working folders");

    private final Options opt;
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    private final String classPath = System.getProperty("java.class.path");
    private final Path logs;
    private volatile Process current;

    /** @param only the sides to run, or null for all (bf16 only with --bf16) */
    record Options(int rounds, int steps, int warmup, int threads, int docs, int matmul, int matmulReps,
            List<String> only, boolean bf16, List<BenchModel.Size> sizes, Path align4j, Path out, long timeoutSeconds,
            boolean keep, Path benchDir) {
    }

    /** One child run's figures. */
    record RunResult(String side, BenchModel.Size size, int round, double[] stepTokensPerSecond,
            double medianStepTokensPerSecond,
            double throughput, double wallTokensPerSecond, int steadySteps, long peakRssKb, long peakHeapBytes,
            double wallSeconds, double firstLoss, double lastLoss, String runtime, Path log) {
    }

    record Child(int exitCode, long peakRssKb, double wallSeconds, Path log) {
    }

    private Main(Options opt) {
        this.opt = opt;
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        this.logs = opt.benchDir().resolve("target").resolve("bench-logs").resolve(stamp);
    }

    public static void main(String[] argv) {
        Options opt;
        try {
            opt = options(argv);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        Main m = new Main(opt);
        Runtime.getRuntime().addShutdownHook(new Thread(m::stopChild, "align4j-bench-stop"));
        try {
            m.run();
        } catch (Exception e) {
            System.err.println("align4j bench: " + e.getMessage());
            System.exit(1);
        }
    }

    static Options options(String[] argv) {
        Args a = new Args("align4j bench", argv, Set.of("rounds", "steps", "warmup", "threads", "docs", "matmul",
                "matmul-reps", "only", "sizes", "align4j", "out", "timeout"), Set.of("keep", "help", "bf16"));
        if (a.flag("help")) {
            System.out.println(USAGE);
            System.exit(0);
        }
        int steps = a.integer("steps", 30, 2, 1_000_000);
        int warmup = a.integer("warmup", 5, 0, 1_000_000);
        if (warmup >= steps) {
            throw a.usage("--warmup " + warmup + " leaves no step of --steps " + steps + " to measure");
        }
        String onlyList = a.string("only", null);
        List<String> only = null;
        if (onlyList != null) {
            only = new ArrayList<>();
            for (String side : onlyList.split(",")) {
                String s = side.trim();
                if (!SIDES.contains(s)) {
                    throw a.usage("--only: expected align4j, plain, djl or bf16 (or several separated by a comma), got"
                            + " \"" + s + "\"");
                }
                if (only.contains(s)) {
                    throw a.usage("--only: " + s + " is listed twice");
                }
                only.add(s);
            }
            only = List.copyOf(only);
        }
        boolean bf16 = a.flag("bf16") || only != null && only.contains("bf16");
        List<BenchModel.Size> sizes = new ArrayList<>();
        for (String label : a.string("sizes", "small,large").split(",")) {
            BenchModel.Size size;
            try {
                size = BenchModel.Size.of(label.trim());
            } catch (IllegalArgumentException e) {
                throw a.usage("--sizes: expected small, large or both separated by a comma, got \"" + label + "\"");
            }
            if (sizes.contains(size)) {
                throw a.usage("--sizes: " + size.label() + " is listed twice");
            }
            sizes.add(size);
        }
        Path benchDir = benchDir();
        Path repo = benchDir.getParent();
        Path align4j = Path.of(a.string("align4j",
                repo.resolve("distribution/target/align4j/bin/align4j").toString())).toAbsolutePath();
        Path out = Path.of(a.string("out", benchDir.resolve("target/bench-result.json").toString())).toAbsolutePath();
        return new Options(a.integer("rounds", 3, 1, 1000), steps, warmup, a.integer("threads", 0, 0, 4096),
                a.integer("docs", 5000, 10, 10_000_000), a.integer("matmul", 2048, 0, 16384),
                a.integer("matmul-reps", 5, 1, 1000), only, bf16, List.copyOf(sizes), align4j, out,
                a.longValue("timeout", 3600), a.flag("keep"),
                benchDir);
    }

    /** The bench module's folder: {@code -Dalign4j.bench.dir} (bench/run sets it), else found from this class. */
    static Path benchDir() {
        String d = System.getProperty("align4j.bench.dir");
        if (d != null) {
            return Path.of(d).toAbsolutePath().normalize();
        }
        try {
            Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.getParent().getParent().toAbsolutePath().normalize(); // bench/target/classes
        } catch (Exception e) {
            return Path.of("bench").toAbsolutePath();
        }
    }

    private boolean runs(String side) {
        return opt.only() == null ? !side.equals("bf16") || opt.bf16() : opt.only().contains(side);
    }

    /** The sides this invocation can report, in the order they run. */
    private static final List<String> SIDES = List.of("align4j", "plain", "djl", "bf16");

    private void run() throws Exception {
        if ((runs("align4j") || runs("bf16")) && !Files.isExecutable(opt.align4j())) {
            throw new IllegalStateException(opt.align4j() + ": no align4j distribution there; build it with ./align4j"
                    + " (or mvn -q -B -DskipTests -pl distribution -am install), pass --align4j <bin/align4j>, or"
                    + " run --only plain");
        }
        Files.createDirectories(logs);
        String loadStart = loadAverage();
        for (BenchModel.Size size : opt.sizes()) {
            ModelConfig config = BenchModel.config(size);
            System.out.printf(Locale.ROOT, "align4j bench, %s: %d layers, d_model %d, %d heads, context %d, vocab %d,"
                    + " batch %d: %,d parameters, %,d tokens and %.3g model FLOPs per step%n", size.label(),
                    config.layers(), config.dModel(), config.heads(), config.context(), config.vocabSize(),
                    size.batch(), config.parameterCount(), tokensPerStep(size), (double) flopsPerStep(size));
        }
        System.out.printf(Locale.ROOT, "  %d rounds of %d steps (first %d of each run left out), threads: %s;"
                + " %d CPUs, load average %s; Java %s%n  logs: %s%n%n", opt.rounds(), opt.steps(), opt.warmup(),
                threadsText(), Runtime.getRuntime().availableProcessors(), loadStart,
                System.getProperty("java.version"), logs);

        JsonNode matmul = null;
        JsonNode matmulBf16 = null;
        if (opt.matmul() > 0) {
            matmul = matmul("fp32");
            System.out.printf(Locale.ROOT, "matmul %dx%d @ %dx%d fp32: %.1f GFLOP/s (median of %d; %s)%n",
                    opt.matmul(), opt.matmul(), opt.matmul(), opt.matmul(),
                    matmul.get("flops_per_second").asDouble() / 1e9, opt.matmulReps(),
                    matmul.path("runtime").asText());
            if (opt.bf16()) {
                matmulBf16 = matmul("bf16");
                System.out.printf(Locale.ROOT, "matmul %dx%d @ %dx%d bf16: %.1f GFLOP/s (%.2f x fp32)%n",
                        opt.matmul(), opt.matmul(), opt.matmul(), opt.matmul(),
                        matmulBf16.get("flops_per_second").asDouble() / 1e9,
                        matmulBf16.get("flops_per_second").asDouble() / matmul.get("flops_per_second").asDouble());
            }
            System.out.println();
        }

        List<RunResult> results = new ArrayList<>();
        System.out.printf("%-5s %-5s %-8s %13s %11s %11s %6s %11s %11s %8s %9s%n", "round", "size", "side",
                "median tok/s",
                "mean tok/s", "wall tok/s", "steps", "peak RSS", "peak heap", "run time", "loss");
        List<String> failures = new ArrayList<>();
        for (BenchModel.Size size : opt.sizes()) {
            for (int round = 1; round <= opt.rounds(); round++) {
                for (String side : order(round)) {
                    if (!runs(side)) {
                        continue;
                    }
                    int r = round;
                    attempt(failures, size, round, side, () -> switch (side) {
                        case "align4j" -> align4j(size, r, false);
                        case "plain" -> plain(size, r);
                        case "djl" -> djl(size, r);
                        default -> align4j(size, r, true);
                    }).ifPresent(results::add);
                }
            }
        }
        if (results.isEmpty()) {
            throw new IllegalStateException("every run failed:\n" + String.join("\n", failures));
        }
        String loadEnd = loadAverage();
        Map<String, Object> report = report(results, matmul, loadStart, loadEnd);
        report.put("failed_runs", failures);
        if (matmulBf16 != null) {
            report.put("matmul_bf16_flops_per_second", matmulBf16.get("flops_per_second").asDouble());
        }
        printSummary(results, matmul, loadEnd);
        if (!failures.isEmpty()) {
            System.out.println("\nleft out, failed: " + failures.size() + " run(s):\n  "
                    + String.join("\n  ", failures));
        }
        writeJson(opt.out(), report);
        System.out.println("\nresult: " + opt.out());
    }

    /**
     * The sides in the order round {@code round} runs them: as listed in odd rounds, reversed in even ones, so that a
     * machine that slows down or speeds up over a few minutes favours no side (each is first as often as last).
     */
    static List<String> order(int round) {
        if (round % 2 == 1) {
            return SIDES;
        }
        List<String> r = new ArrayList<>(SIDES);
        Collections.reverse(r);
        return r;
    }

    /** A run that may fail. */
    private interface SideRun {
        RunResult run() throws Exception;
    }

    /**
     * One run, printed; a run that fails (a child's non-zero exit, a loss that is not finite) is printed with its
     * reason and left out of the figures, so one bad run does not lose the others; its reason goes to the result.
     */
    private static Optional<RunResult> attempt(List<String> failures, BenchModel.Size size, int round,
            String side, SideRun run) throws InterruptedException {
        try {
            return Optional.of(print(run.run()));
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            System.out.printf(Locale.ROOT, "%-5d %-5s %-8s FAILED, left out: %s%n%s%n", round, size.label(), side,
                    first, e.getMessage() == null ? "" : tailOf(e.getMessage(), 4));
            failures.add("round " + round + " " + size.label() + " " + side + ": " + first);
            return Optional.empty();
        }
    }

    private static String tailOf(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private String threadsText() {
        return opt.threads() == 0 ? "TensorFlow's choice (intra 0, inter 0)"
                : "intra " + opt.threads() + ", inter 1";
    }

    // ---------------------------------------------------------------- the two sides and the matmul

    private static long tokensPerStep(BenchModel.Size size) {
        return BenchModel.tokensPerStep(BenchModel.config(size), size.batch());
    }

    private static long flopsPerStep(BenchModel.Size size) {
        return BenchModel.flopsPerStep(BenchModel.config(size), size.batch());
    }

    /** @param bf16 with {@code model.precision: bf16} (side {@code bf16}) */
    private RunResult align4j(BenchModel.Size size, int round, boolean bf16) throws Exception {
        ModelConfig config = BenchModel.config(size);
        if (bf16) {
            config = config.toBuilder().precision(ModelConfig.Precision.BF16).build();
        }
        String side = bf16 ? "bf16" : "align4j";
        String name = side + "-" + size.label() + "-" + round;
        Path tmp = Files.createTempDirectory("align4j-bench-");
        try {
            Path workDir = tmp.resolve("run");
            Path pipeline = tmp.resolve("pipeline.yaml");
            Files.writeString(pipeline, Pipeline.yaml(config, workDir, BenchModel.SEED, opt.docs(), opt.steps(),
                    size.batch()));
            // in the temporary folder: bin/align4j splits ALIGN4J_OPTS at spaces, which a log path could hold
            Path gcTmp = tmp.resolve("gc.log");
            Path gc = logs.resolve(name + ".gc.log");
            List<String> jvm = new ArrayList<>();
            if (opt.threads() > 0) {
                jvm.add("-Dalign4j.tensorflow.intraOpThreads=" + opt.threads());
                jvm.add("-Dalign4j.tensorflow.interOpThreads=1");
            }
            jvm.add(GcLog.jvmOption(gcTmp.toString()));
            Map<String, String> env = new LinkedHashMap<>();
            env.put("JAVA", java.toString());
            env.put("ALIGN4J_OPTS", String.join(" ", jvm));
            Child c = child(List.of(opt.align4j().toString(), "run", pipeline.toString()), env, tmp,
                    logs.resolve(name + ".log"));
            if (Files.exists(gcTmp)) {
                Files.copy(gcTmp, gc, StandardCopyOption.REPLACE_EXISTING);
            }
            if (c.exitCode() != 0) {
                throw new IllegalStateException("align4j run " + round + " exited with " + c.exitCode() + "; see "
                        + c.log() + "\n" + tail(c.log(), 25));
            }
            Path metrics = workDir.resolve("metrics.jsonl");
            if (!Files.isRegularFile(metrics)) {
                throw new IllegalStateException(metrics + ": missing after align4j run " + round + "; see " + c.log());
            }
            Path kept = logs.resolve(name + ".metrics.jsonl");
            Files.copy(metrics, kept, StandardCopyOption.REPLACE_EXISTING);
            MetricsLog.Run m = MetricsLog.parse(Files.readAllLines(kept, StandardCharsets.UTF_8), kept.toString());
            List<MetricsLog.Step> steps = new ArrayList<>(m.steps());
            steps.sort(Comparator.comparingLong(MetricsLog.Step::step));
            if (steps.size() != opt.steps()) {
                throw new IllegalStateException(kept + ": " + steps.size() + " STEP events, expected " + opt.steps()
                        + " (log_every 1): the trainer did not report every step");
            }
            String runtime = "";
            boolean sameModel = false;
            for (String msg : m.messages()) {
                if (msg.startsWith("pretrain: ")) {
                    sameModel = msg.contains(config.toString());
                    runtime = msg.substring(msg.lastIndexOf("; ") + 2);
                }
            }
            if (!sameModel) {
                System.out.println("  warning: " + kept + " does not show the trainer building " + config
                        + " (its \"pretrain: ModelConfig{...}\" message is missing or differs)");
            }
            double[] tps = steps.stream().mapToDouble(MetricsLog.Step::tokensPerSecond).toArray();
            double[] ends = steps.stream().mapToDouble(s -> s.timeMillis() / 1000.0).toArray();
            return result(side, size, round, tps, ends, c, GcLog.peakHeapBytes(lines(gc)), steps.get(0).loss(),
                    steps.get(steps.size() - 1).loss(), runtime);
        } finally {
            if (!opt.keep()) {
                deleteTree(tmp);
            } else {
                System.out.println("  kept " + tmp);
            }
        }
    }

    private RunResult plain(BenchModel.Size size, int round) throws Exception {
        return flat("plain", size, round, PlainTrain.class.getName(), classPath);
    }

    /** The peer: {@link DjlTrain}, with DJL and PyTorch's CPU build ({@code target/lib-djl}) on its class path. */
    private RunResult djl(BenchModel.Size size, int round) throws Exception {
        Path lib = opt.benchDir().resolve("target/lib-djl");
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(lib + " is missing: build the bench module (mvn -q -B -DskipTests -pl"
                    + " bench -am install) or run --only align4j / plain");
        }
        return flat("djl", size, round, DjlTrain.class.getName(), classPath + File.pathSeparator + lib + File.separator
                + "*");
    }

    /** A side that trains on the flat class path ({@code plain}, {@code djl}) in a JVM of its own. */
    private RunResult flat(String side, BenchModel.Size size, int round, String mainClass, String cp)
            throws Exception {
        String name = side + "-" + size.label() + "-" + round;
        Path gc = logs.resolve(name + ".gc.log");
        List<String> cmd = List.of(java.toString(), GcLog.jvmOption(gc.toString()), "-cp", cp, mainClass, "--steps",
                Integer.toString(opt.steps()), "--threads", Integer.toString(opt.threads()), "--seed",
                Long.toString(BenchModel.SEED), "--size", size.label());
        Child c = child(cmd, Map.of(), opt.benchDir(), logs.resolve(name + ".log"));
        if (c.exitCode() != 0) {
            throw new IllegalStateException(side + " run " + round + " exited with " + c.exitCode() + "; see "
                    + c.log() + "\n" + tail(c.log(), 25));
        }
        JsonNode r = ResultLine.parse(lines(c.log()), c.log().toString());
        double[] tps = ResultLine.doubles(r, "step_tokens_per_second", c.log().toString());
        double[] loss = ResultLine.doubles(r, "loss", c.log().toString());
        double[] ends = ResultLine.doubles(r, "step_end_seconds", c.log().toString());
        if (tps.length != opt.steps()) {
            throw new IllegalStateException(c.log() + ": " + tps.length + " steps reported, expected " + opt.steps());
        }
        return result(side, size, round, tps, ends, c, GcLog.peakHeapBytes(lines(gc)), loss[0], loss[loss.length - 1],
                r.path("runtime").asText());
    }

    private JsonNode matmul(String precision) throws Exception {
        List<String> cmd = List.of(java.toString(), "-cp", classPath, MatmulPeak.class.getName(), "--n",
                Integer.toString(opt.matmul()), "--reps", Integer.toString(opt.matmulReps()), "--threads",
                Integer.toString(opt.threads()), "--precision", precision);
        Child c = child(cmd, Map.of(), opt.benchDir(), logs.resolve("matmul-" + precision + ".log"));
        if (c.exitCode() != 0) {
            throw new IllegalStateException("the matmul reference exited with " + c.exitCode() + "; see " + c.log()
                    + "\n" + tail(c.log(), 25));
        }
        return ResultLine.parse(lines(c.log()), c.log().toString());
    }

    private RunResult result(String side, BenchModel.Size size, int round, double[] tps, double[] stepEnds, Child c,
            long heap,
            double firstLoss, double lastLoss, String runtime) {
        double[] steady = Stats.skip(tps, opt.warmup());
        return new RunResult(side, size, round, tps, Stats.median(steady), Stats.harmonicMean(steady),
                Stats.wallRate(stepEnds, opt.warmup(), tokensPerStep(size)), steady.length,
                c.peakRssKb(), heap, c.wallSeconds(), firstLoss, lastLoss, runtime, c.log());
    }

    /** Runs a child to its end with its output in {@code log}, polling its peak resident set. */
    private Child child(List<String> cmd, Map<String, String> env, Path dir, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "1"); // what bin/align4j sets by default, on both sides
        long start = System.nanoTime();
        Process p = pb.start();
        current = p;
        try (ProcStatus rss = ProcStatus.watch(p.pid(), 100)) {
            if (!p.waitFor(opt.timeoutSeconds(), TimeUnit.SECONDS)) {
                stopChild();
                throw new IllegalStateException(String.join(" ", cmd.subList(0, Math.min(3, cmd.size())))
                        + "...: still running after " + opt.timeoutSeconds() + " s (--timeout); stopped; see " + log);
            }
            double wall = (System.nanoTime() - start) / 1e9;
            rss.close();
            return new Child(p.exitValue(), rss.peakKb(), wall, log);
        } finally {
            current = null;
        }
    }

    private void stopChild() {
        Process p = current;
        if (p != null && p.isAlive()) {
            p.destroy(); // SIGTERM: align4j stops its framework cleanly
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- output

    private static RunResult print(RunResult r) {
        System.out.printf(Locale.ROOT, "%-5d %-5s %-8s %,13.1f %,11.1f %,11.1f %6d %11s %11s %7.1fs %4.2f->%4.2f%n",
                r.round(), r.size().label(), r.side(), r.medianStepTokensPerSecond(), r.throughput(),
                r.wallTokensPerSecond(),
                r.steadySteps(), mib(r.peakRssKb() * 1024),
                mib(r.peakHeapBytes()), r.wallSeconds(), r.firstLoss(), r.lastLoss());
        return r;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%,d MiB", Math.round(bytes / 1048576.0));
    }

    private static double mfu(double tokensPerSecond, JsonNode matmul, BenchModel.Size size) {
        if (matmul == null) {
            return Double.NaN;
        }
        double stepsPerSecond = tokensPerSecond / tokensPerStep(size);
        return flopsPerStep(size) * stepsPerSecond / matmul.get("flops_per_second").asDouble();
    }

    private static List<RunResult> of(List<RunResult> rs, String side, BenchModel.Size size) {
        return rs.stream().filter(r -> r.side().equals(side) && r.size() == size).toList();
    }

    private static double[] figures(List<RunResult> rs, String side, BenchModel.Size size) {
        return of(rs, side, size).stream().mapToDouble(RunResult::medianStepTokensPerSecond).toArray();
    }

    private static double medianKnown(List<RunResult> rs, String side, BenchModel.Size size, boolean rss) {
        return Stats.medianOfKnown(of(rs, side, size).stream()
                .mapToDouble(r -> rss ? (r.peakRssKb() < 0 ? -1 : r.peakRssKb() * 1024.0) : r.peakHeapBytes())
                .toArray());
    }

    /** align4j's median over {@code side}'s, or NaN when either did not run. */
    private static double ratio(List<RunResult> rs, String side, BenchModel.Size size) {
        return ratioOf(rs, "align4j", side, size);
    }

    /** {@code side}'s median over {@code other}'s, or NaN when either did not run. */
    private static double ratioOf(List<RunResult> rs, String side, String other, BenchModel.Size size) {
        double[] a = figures(rs, side, size);
        double[] o = figures(rs, other, size);
        return a.length == 0 || o.length == 0 ? Double.NaN : Stats.median(a) / Stats.median(o);
    }

    /**
     * {@code side}'s figure over {@code other}'s in each round where both ran: runs next to each other in time, so
     * less exposed than the medians to a machine that is slower for a minute.
     */
    static String roundRatios(List<RunResult> rs, String side, String other, BenchModel.Size size) {
        List<String> out = new ArrayList<>();
        for (RunResult a : of(rs, side, size)) {
            for (RunResult o : of(rs, other, size)) {
                if (o.round() == a.round()) {
                    out.add(String.format(Locale.ROOT, "%.3f",
                            a.medianStepTokensPerSecond() / o.medianStepTokensPerSecond()));
                }
            }
        }
        return String.join(", ", out);
    }

    private void printSummary(List<RunResult> results, JsonNode matmul, String loadEnd) {
        for (BenchModel.Size size : opt.sizes()) {
            System.out.printf("%n%-5s %-8s %4s %14s %25s %8s %7s %17s %17s%n", "size", "side", "runs", "median tok/s",
                    "min - max", "spread", "MFU", "peak RSS (med.)", "peak heap (med.)");
            for (String side : SIDES) {
                double[] f = figures(results, side, size);
                if (f.length == 0) {
                    continue;
                }
                Stats.Summary s = Stats.summarize(f);
                double mfu = mfu(s.median(), matmul, size);
                System.out.printf(Locale.ROOT, "%-5s %-8s %4d %,14.1f %,12.1f - %,10.1f %7.1f%% %7s %17s %17s%n",
                        size.label(), side, s.count(), s.median(), s.min(), s.max(), s.spreadPercent(),
                        Double.isNaN(mfu) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * mfu),
                        mib((long) medianKnown(results, side, size, true)),
                        mib((long) medianKnown(results, side, size, false)));
            }
            double plain = ratio(results, "plain", size);
            if (!Double.isNaN(plain)) {
                System.out.printf(Locale.ROOT, "%s: align4j / plain (medians): %.3f  (goal >= %.2f: %s); each round:"
                        + " %s%n", size.label(), plain, GOAL, plain >= GOAL ? "met" : "NOT met",
                        roundRatios(results, "align4j", "plain", size));
            }
            double peer = ratio(results, "djl", size);
            if (!Double.isNaN(peer)) {
                double memory = medianKnown(results, "align4j", size, true)
                        / medianKnown(results, "djl", size, true);
                System.out.printf(Locale.ROOT, "%s: align4j / DJL on PyTorch (medians): %.3f  (goal >= %.2f: %s);"
                        + " peak RSS align4j / DJL %.2f; each round: %s%n", size.label(), peer, PEER_GOAL,
                        peer >= PEER_GOAL ? "met" : "NOT met", memory, roundRatios(results, "align4j", "djl", size));
            }
            double bf16 = ratioOf(results, "bf16", "align4j", size);
            if (!Double.isNaN(bf16)) {
                System.out.printf(Locale.ROOT, "%s: align4j bf16 / align4j fp32 (medians): %.3f; bf16 / DJL: %.3f"
                        + " (reported separately; the goals are fp32's)%n", size.label(), bf16,
                        ratioOf(results, "bf16", "djl", size));
            }
        }
        System.out.printf(Locale.ROOT, "%ntok/s of a run: the median of its per-step figures (timed as PretrainTrainer"
                + " times a step) after %d warmup steps; mean tok/s: its steady steps' tokens over their seconds;"
                + " wall tok/s: over the time from step end to step end (metrics publishing included).%n"
                + "MFU: model FLOPs/step x steps/s / the matmul's FLOP/s. Load average at the end: %s%n",
                opt.warmup(), loadEnd);
        List<String> runtimes = results.stream().filter(r -> !r.side().equals("djl") && !r.side().equals("bf16"))
                .map(RunResult::runtime)
                .distinct().toList();
        if (runtimes.size() > 1) {
            System.out.println("warning: the runs' TensorFlow sessions differ: " + runtimes);
        }
    }

    private Map<String, Object> report(List<RunResult> results, JsonNode matmul, String loadStart, String loadEnd) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("benchmark", "align4j-bench");
        r.put("time", Instant.now().toString());
        r.put("host", host(loadStart, loadEnd));
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("rounds", opt.rounds());
        o.put("steps", opt.steps());
        o.put("warmup", opt.warmup());
        o.put("threads", opt.threads());
        o.put("docs", opt.docs());
        o.put("only", opt.only());
        o.put("bf16", opt.bf16());
        o.put("sizes", opt.sizes().stream().map(BenchModel.Size::label).toList());
        o.put("align4j", opt.align4j().toString());
        r.put("options", o);
        r.put("optimizer", BenchModel.optimizer());
        if (matmul != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", matmul.path("n").asInt());
            m.put("seconds", matmul.get("seconds"));
            m.put("flops_per_second", matmul.get("flops_per_second").asDouble());
            m.put("runtime", matmul.path("runtime").asText());
            r.put("matmul", m);
        }
        List<Map<String, Object>> runs = new ArrayList<>();
        for (RunResult x : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("side", x.side());
            m.put("size", x.size().label());
            m.put("round", x.round());
            m.put("median_step_tokens_per_second", x.medianStepTokensPerSecond());
            m.put("mean_tokens_per_second", x.throughput());
            m.put("wall_tokens_per_second", finite(x.wallTokensPerSecond()));
            m.put("steady_steps", x.steadySteps());
            m.put("step_tokens_per_second", x.stepTokensPerSecond());
            m.put("peak_rss_bytes", x.peakRssKb() < 0 ? null : x.peakRssKb() * 1024);
            m.put("peak_heap_bytes", x.peakHeapBytes() < 0 ? null : x.peakHeapBytes());
            m.put("wall_seconds", x.wallSeconds());
            m.put("first_loss", finite(x.firstLoss()));
            m.put("last_loss", finite(x.lastLoss()));
            m.put("runtime", x.runtime());
            m.put("log", x.log().toString());
            runs.add(m);
        }
        r.put("runs", runs);
        Map<String, Object> sizes = new LinkedHashMap<>();
        boolean plainMet = true;
        boolean peerMet = true;
        for (BenchModel.Size size : opt.sizes()) {
            ModelConfig config = BenchModel.config(size);
            Map<String, Object> z = new LinkedHashMap<>();
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("config", config.toString());
            model.put("parameters", config.parameterCount());
            model.put("batch", size.batch());
            model.put("tokens_per_step", tokensPerStep(size));
            model.put("flops_per_step", flopsPerStep(size));
            z.put("model", model);
            Map<String, Object> sides = new LinkedHashMap<>();
            for (String side : SIDES) {
                double[] f = figures(results, side, size);
                if (f.length == 0) {
                    continue;
                }
                Stats.Summary s = Stats.summarize(f);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("runs", s.count());
                m.put("median_tokens_per_second", s.median());
                m.put("min_tokens_per_second", s.min());
                m.put("max_tokens_per_second", s.max());
                m.put("spread_percent", finite(s.spreadPercent()));
                m.put("mfu", finite(mfu(s.median(), matmul, size)));
                double rss = medianKnown(results, side, size, true);
                double heap = medianKnown(results, side, size, false);
                m.put("peak_rss_bytes_median", rss < 0 ? null : (long) rss);
                m.put("peak_heap_bytes_median", heap < 0 ? null : (long) heap);
                sides.put(side, m);
            }
            z.put("sides", sides);
            double plain = ratio(results, "plain", size);
            double peer = ratio(results, "djl", size);
            z.put("ratio_align4j_over_plain", finite(plain));
            z.put("ratio_align4j_over_djl", finite(peer));
            z.put("ratio_bf16_over_align4j", finite(ratioOf(results, "bf16", "align4j", size)));
            z.put("ratio_bf16_over_djl", finite(ratioOf(results, "bf16", "djl", size)));
            plainMet &= Double.isNaN(plain) || plain >= GOAL;
            peerMet &= Double.isNaN(peer) || peer >= PEER_GOAL;
            sizes.put(size.label(), z);
        }
        r.put("sizes", sizes);
        r.put("goal", GOAL);
        r.put("goal_met", plainMet);
        r.put("peer_goal", PEER_GOAL);
        r.put("peer_goal_met", peerMet);
        return r;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** Writes {@code report} to a temporary file beside {@code out}, then renames it into place. */
    static void writeJson(Path out, Map<String, Object> report) throws IOException {
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), out.getFileName().toString(), ".tmp");
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), report);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<String> lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Arrays.asList(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n"));
    }

    /** The machine a result was measured on, for the result files: CPUs, load averages, Java and OS. */
    static Map<String, Object> host(String loadStart, String loadEnd) {
        Map<String, Object> host = new LinkedHashMap<>();
        host.put("cpus", Runtime.getRuntime().availableProcessors());
        host.put("load_average_start", loadStart);
        host.put("load_average_end", loadEnd);
        host.put("java", System.getProperty("java.version"));
        host.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        return host;
    }

    /** The last {@code n} lines of {@code file}, indented for an error message. */
    static String tail(Path file, int n) {
        try {
            List<String> all = lines(file);
            return "  | " + String.join("\n  | ", all.subList(Math.max(0, all.size() - n), all.size()));
        } catch (IOException e) {
            return "  (cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** The machine's load averages (1, 5, 15 minutes), or {@code n/a}. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.err.println("align4j bench: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
