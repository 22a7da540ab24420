package org.align4j.bench;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Where the time of one PPO iteration goes: a {@code ppo} stage run through the distribution's {@code bin/align4j}
 * in a child process (a few pre-training steps give the model of {@code examples/dpo.yaml}, then PPO on arithmetic
 * prompts scored by {@code arithmetic-verifier}), its iterations read back from the run's {@code metrics.jsonl}.
 * Every STEP event of the stage carries {@code iteration} and the {@code time/*} seconds of that iteration's rollout
 * (generation, scoring, policy, reference and value forward passes, advantages) and {@code time/updates}, the
 * optimizer updates of the iteration before. Prints, per part, the median seconds per iteration after the warm-up
 * iterations, the min-max spread and its share of the iteration, plus rollouts/s, generated tokens/s and the child's
 * peak resident set; writes the same as JSON to {@code bench/target/ppo-result.json}. A program, not a test:
 *
 * <pre>
 * bench/run --ppo [--iterations 8] [--prompts 32] [--samples 4] [--batch 32] [--warmup 2]
 * </pre>
 */
public final class PpoBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USAGE = "usage: bench/run --ppo [--iterations 8] [--prompts 32] [--samples 4]"
            + " [--batch 32] [--warmup 2] [--align4j PATH] [--out FILE] [--timeout S] [--keep]";
    /** Optimizer passes over each iteration's rollouts. */
    static final int EPOCHS = 2;
    static final int MAX_TOKENS = 64;
    static final int PRETRAIN_STEPS = 20;
    /** The parts of an iteration, in the order of the table; each is {@code time/<part>} in the metrics. */
    static final List<String> PARTS = List.of("generation", "scoring", "policy_logprobs", "reference_logprobs",
            "value", "advantages", "updates");

    private PpoBench() {
    }

    /** The options of one invocation. */
    record Options(int iterations, int prompts, int samples, int batch, int warmup, Path align4j, Path out,
            long timeoutSeconds, boolean keep, Path benchDir) {
        int rollouts() {
            return prompts * samples;
        }

        int updatesPerIteration() {
            return EPOCHS * rollouts() / batch;
        }

        int steps() {
            return iterations * updatesPerIteration();
        }
    }

    /** A part's figures over the steady iterations: seconds per iteration, and its share of the iterations' time. */
    record Part(String name, Stats.Summary seconds, double sharePercent) {
    }

    static String pipeline(Path workDir, Options o) {
        return String.join("\n",
                "# written by align4j-bench --ppo: the model of examples/dpo.yaml, pre-trained " + PRETRAIN_STEPS
                        + " steps, then PPO",
                "run: { name: ppo-bench, workdir: '" + workDir.toString().replace("'", "''") + "', seed: 7 }",
                "model: { layers: 2, d_model: 128, heads: 4, context: 96 }",
                "data:",
                "  generate: { name: arithmetic, format: text, difficulty: medium, count: 5000 }",
                "  validation_fraction: 0.01",
                "  tokenizer: { type: bpe, vocab: 512 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 2.0e-3 }",
                "    steps: " + PRETRAIN_STEPS,
                "    batch: 16",
                "    log_every: 10",
                "    eval: { every: 0, batches: 1 }",
                "    checkpoint: { every: 0, keep: 1 }",
                "    sample: { count: 0 }",
                "  - trainer: ppo",
                "    init: stage-0",
                "    data:",
                "      generate: { name: arithmetic, format: prompt-completion, difficulty: medium, count: 2000 }",
                "      validation_fraction: 0",
                "    reward_model: arithmetic-verifier",
                "    loss: ppo-clip",
                "    rollout: { prompts: " + o.prompts() + ", samples: " + o.samples() + ", max_tokens: " + MAX_TOKENS
                        + " }",
                "    epochs: " + EPOCHS,
                "    batch: " + o.batch(),
                "    optimizer: { name: adamw, lr: 1.0e-5, schedule: constant }",
                "    steps: " + o.steps(),
                "    log_every: 1",
                "    eval: { every: 0, batches: 1 }",
                "    checkpoint: { every: 0, keep: 1 }",
                "    exact_match: { samples: 0 }",
                "");
    }

    /** What the stage's log says: each iteration's metrics (from its first STEP event), and every STEP's tokens/s. */
    record Log(TreeMap<Integer, Map<String, Double>> iterations, Map<Integer, List<Double>> trainTokensPerSecond) {
    }

    /**
     * Reads the STEP events of the {@code ppo} stage from the lines of a {@code metrics.jsonl}. Several events share
     * an iteration (one per optimizer step); their rollout figures are the same, so the first is kept.
     *
     * @param where the file name, for errors
     */
    static Log parse(List<String> lines, String where) {
        TreeMap<Integer, Map<String, Double>> its = new TreeMap<>();
        Map<Integer, List<Double>> tps = new TreeMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode e;
            try {
                e = JSON.readTree(line);
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": not a JSON object ("
                        + ex.getOriginalMessage() + ")");
            }
            if (!"STEP".equals(e.path("kind").asText()) || !e.path("stage").asText("").endsWith(":ppo")) {
                continue;
            }
            JsonNode m = e.path("metrics");
            JsonNode it = m.get("iteration");
            if (it == null || !it.isNumber() || it.asInt() < 1) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": STEP event of the ppo stage without a"
                        + " positive number in metrics.iteration: " + line);
            }
            int iteration = it.asInt();
            if (!its.containsKey(iteration)) {
                Map<String, Double> values = new LinkedHashMap<>();
                m.fields().forEachRemaining(f -> {
                    if (f.getValue().isNumber()) {
                        values.put(f.getKey(), f.getValue().asDouble());
                    }
                });
                its.put(iteration, values);
            }
            JsonNode t = m.get("train_tokens_per_second");
            if (t != null && t.isNumber()) {
                tps.computeIfAbsent(iteration, k -> new ArrayList<>()).add(t.asDouble());
            }
        }
        return new Log(its, tps);
    }

    /**
     * The seconds of {@code part} in iteration {@code i}, or NaN when the log does not have it: the rollout's parts
     * come with the iteration's own events, the updates of iteration {@code i} with those of {@code i + 1}.
     */
    static double seconds(Log log, String part, int i) {
        Map<String, Double> m = log.iterations().get(part.equals("updates") ? i + 1 : i);
        Double v = m == null ? null : m.get("time/" + part);
        return v == null ? Double.NaN : v;
    }

    /**
     * The parts' figures over the steady iterations {@code warmup + 1 .. last}: each part's median and spread over
     * the iterations where it is known (the last iteration's updates never are), and its share of the summed time of
     * the complete iterations (those where every part is known).
     */
    static List<Part> parts(Log log, int warmup, int last) {
        double[] totals = totals(log, warmup, last);
        double all = Arrays.stream(totals).sum();
        List<Part> out = new ArrayList<>();
        for (String p : PARTS) {
            List<Double> known = new ArrayList<>();
            double inComplete = 0;
            for (int i = warmup + 1; i <= last; i++) {
                double s = seconds(log, p, i);
                if (!Double.isNaN(s)) {
                    known.add(s);
                }
                if (complete(log, i)) {
                    inComplete += s;
                }
            }
            if (known.isEmpty()) {
                throw new IllegalStateException("no time/" + p + " in the steady iterations " + (warmup + 1) + ".."
                        + last + " of the ppo stage (is the trainer-ppo bundle older than the time/* metrics?)");
            }
            out.add(new Part(p, Stats.summarize(known.stream().mapToDouble(Double::doubleValue).toArray()),
                    all > 0 ? inComplete / all * 100 : Double.NaN));
        }
        return out;
    }

    /** The summed parts of each complete steady iteration. */
    static double[] totals(Log log, int warmup, int last) {
        List<Double> t = new ArrayList<>();
        for (int i = warmup + 1; i <= last; i++) {
            if (complete(log, i)) {
                double s = 0;
                for (String p : PARTS) {
                    s += seconds(log, p, i);
                }
                t.add(s);
            }
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static boolean complete(Log log, int i) {
        return PARTS.stream().noneMatch(p -> Double.isNaN(seconds(log, p, i)));
    }

    public static void main(String[] argv) throws Exception {
        Options o;
        try {
            Args a = new Args("bench --ppo", argv, Set.of("iterations", "prompts", "samples", "batch", "warmup",
                    "align4j", "out", "timeout"), Set.of("help", "keep"));
            if (a.flag("help")) {
                System.out.println(USAGE);
                return;
            }
            Path benchDir = Path.of(System.getProperty("align4j.bench.dir", "bench")).toAbsolutePath().normalize();
            Path repo = benchDir.getParent();
            o = new Options(a.integer("iterations", 8, 2, 100_000), a.integer("prompts", 32, 1, 1 << 16),
                    a.integer("samples", 4, 1, 1 << 10), a.integer("batch", 32, 1, 1 << 20),
                    a.integer("warmup", 2, 0, 100_000),
                    Path.of(a.string("align4j", repo.resolve("distribution/target/align4j/bin/align4j").toString()))
                            .toAbsolutePath(),
                    Path.of(a.string("out", benchDir.resolve("target/ppo-result.json").toString())).toAbsolutePath(),
                    a.longValue("timeout", 3600), a.flag("keep"), benchDir);
            if (o.rollouts() % o.batch() != 0) {
                throw a.usage("--batch " + o.batch() + " must divide --prompts x --samples = " + o.rollouts()
                        + " (the rollouts of an iteration)");
            }
            if (o.warmup() + 2 > o.iterations()) {
                throw a.usage("--warmup " + o.warmup() + " leaves no complete iteration of --iterations "
                        + o.iterations() + " (the updates of an iteration are reported with the next one; use"
                        + " --iterations >= --warmup + 2)");
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            run(o);
        } catch (IllegalStateException e) {
            System.err.println("bench --ppo: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void run(Options o) throws Exception {
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        Path logs = Files.createDirectories(o.benchDir().resolve("target/bench-logs").resolve("ppo-" + stamp));
        String loadStart = Main.loadAverage();
        System.out.printf(Locale.ROOT, "align4j bench --ppo: %d iterations of %d prompts x %d samples = %d rollouts"
                + " (max %d tokens), %d epochs of batch %d = %d updates an iteration (%d steps); model of"
                + " examples/dpo.yaml (2 layers, d_model 128, context 96), %d pre-training steps; %s%n",
                o.iterations(), o.prompts(), o.samples(), o.rollouts(), MAX_TOKENS, EPOCHS, o.batch(),
                o.updatesPerIteration(), o.steps(), PRETRAIN_STEPS, o.align4j());
        Path tmp = Files.createTempDirectory("align4j-ppo-bench-");
        Path log = logs.resolve("run.log");
        Log parsed;
        long peakKb;
        double wall;
        try {
            Path workDir = tmp.resolve("run");
            Path yaml = tmp.resolve("pipeline.yaml");
            Files.writeString(yaml, pipeline(workDir, o), StandardCharsets.UTF_8);
            Files.copy(yaml, logs.resolve("pipeline.yaml"), StandardCopyOption.REPLACE_EXISTING);
            Child c = child(o, yaml, tmp, log);
            peakKb = c.peakRssKb();
            wall = c.wallSeconds();
            int exit = c.exitCode();
            if (exit != 0) {
                throw new IllegalStateException("bin/align4j run exited with " + exit + "; see " + log + "\n"
                        + Main.tail(log, 25));
            }
            Path metrics = workDir.resolve("metrics.jsonl");
            if (!Files.isRegularFile(metrics)) {
                throw new IllegalStateException(metrics + ": missing after the run; see " + log);
            }
            Path kept = logs.resolve("metrics.jsonl");
            Files.copy(metrics, kept, StandardCopyOption.REPLACE_EXISTING);
            parsed = parse(Files.readAllLines(kept, StandardCharsets.UTF_8), kept.toString());
        } finally {
            if (o.keep()) {
                System.out.println("kept " + tmp);
            } else {
                Main.deleteTree(tmp);
            }
        }
        int last = parsed.iterations().isEmpty() ? 0 : parsed.iterations().lastKey();
        if (last != o.iterations()) {
            throw new IllegalStateException(logs.resolve("metrics.jsonl") + ": the ppo stage reported " + last
                    + " iterations, expected " + o.iterations() + "; see " + log);
        }
        report(o, parsed, peakKb, wall, loadStart, logs);
    }

    /** A finished child: its exit code, peak resident set (KiB, -1 unknown) and wall seconds. */
    record Child(int exitCode, long peakRssKb, double wallSeconds) {
    }

    /** Runs {@code bin/align4j run yaml} in {@code dir} to its end with its output in {@code log}, polling VmHWM. */
    private static Child child(Options o, Path yaml, Path dir, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(o.align4j().toString(), "run", yaml.toString()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "1");
        long start = System.nanoTime();
        Process p = pb.start();
        try (ProcStatus rss = ProcStatus.watch(p.pid(), 100)) {
            if (!p.waitFor(o.timeoutSeconds(), TimeUnit.SECONDS)) {
                p.destroy(); // SIGTERM: align4j stops its framework cleanly
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                throw new IllegalStateException("bin/align4j run: still running after " + o.timeoutSeconds()
                        + " s (--timeout); stopped; see " + log);
            }
            double wall = (System.nanoTime() - start) / 1e9;
            rss.close();
            return new Child(p.exitValue(), rss.peakKb(), wall);
        }
    }

    private static void report(Options o, Log log, long peakKb, double wall, String loadStart, Path logs)
            throws IOException {
        int last = o.iterations();
        List<Part> parts = parts(log, o.warmup(), last);
        double[] totals = totals(log, o.warmup(), last);
        Stats.Summary total = Stats.summarize(totals);
        List<Double> genRates = new ArrayList<>();
        List<Double> lengths = new ArrayList<>();
        List<Double> trainTps = new ArrayList<>();
        for (int i = o.warmup() + 1; i <= last; i++) {
            Map<String, Double> m = log.iterations().get(i);
            Double len = m == null ? null : m.get("monitor/length");
            double gen = seconds(log, "generation", i);
            if (len != null && gen > 0) {
                lengths.add(len);
                genRates.add(len * o.rollouts() / gen);
            }
            trainTps.addAll(log.trainTokensPerSecond().getOrDefault(i, List.of()));
        }
        double genTps = genRates.isEmpty() ? Double.NaN : Stats.median(toArray(genRates));
        double meanLength = lengths.isEmpty() ? Double.NaN : Stats.median(toArray(lengths));
        double trainTokensPerSecond = trainTps.isEmpty() ? Double.NaN : Stats.median(toArray(trainTps));
        double rolloutsPerSecond = o.rollouts() / total.median();
        String loadEnd = Main.loadAverage();

        System.out.printf(Locale.ROOT, "%nseconds per PPO iteration, iterations %d-%d of %d (%d warm-up left out;"
                + " updates of iterations %d-%d: an iteration's updates are reported with the next one)%n",
                o.warmup() + 1, last, last, o.warmup(), o.warmup() + 1, last - 1);
        System.out.printf(Locale.ROOT, "%-20s %10s %19s %8s%n", "part", "median s", "min - max s", "share");
        for (Part p : parts) {
            System.out.printf(Locale.ROOT, "%-20s %10.3f %8.3f - %8.3f %7.1f%%%n", p.name(), p.seconds().median(),
                    p.seconds().min(), p.seconds().max(), p.sharePercent());
        }
        System.out.printf(Locale.ROOT, "%-20s %10.3f %8.3f - %8.3f %7.1f%%   (%d complete iterations)%n", "iteration",
                total.median(), total.min(), total.max(), 100.0, total.count());
        System.out.printf(Locale.ROOT, "rollouts/s:            %.1f (%d rollouts / the median iteration)%n",
                rolloutsPerSecond, o.rollouts());
        System.out.printf(Locale.ROOT, "generated tokens/s:    %.0f (median of monitor/length x rollouts /"
                + " time/generation; mean completion %.1f tokens)%n", genTps, meanLength);
        System.out.printf(Locale.ROOT, "train tokens/s:        %.0f (median train_tokens_per_second of the updates)%n",
                trainTokensPerSecond);
        System.out.printf(Locale.ROOT, "peak RSS (VmHWM):      %s; child wall time %.1f s (start, data, tokenizer,"
                + " pre-training included)%n", peakKb < 0 ? "n/a"
                        : String.format(Locale.ROOT, "%,d MiB", Math.round(peakKb / 1024.0)), wall);
        System.out.printf(Locale.ROOT, "share: the part's seconds over the complete iterations' summed parts; load"
                + " average %s at the start, %s at the end; %d CPUs. Logs: %s%n", loadStart, loadEnd,
                Runtime.getRuntime().availableProcessors(), logs);

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("benchmark", "align4j-bench --ppo");
        r.put("time", Instant.now().toString());
        r.put("host", Main.host(loadStart, loadEnd));
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("iterations", o.iterations());
        opts.put("prompts", o.prompts());
        opts.put("samples", o.samples());
        opts.put("rollouts", o.rollouts());
        opts.put("batch", o.batch());
        opts.put("epochs", EPOCHS);
        opts.put("updates_per_iteration", o.updatesPerIteration());
        opts.put("steps", o.steps());
        opts.put("max_tokens", MAX_TOKENS);
        opts.put("warmup", o.warmup());
        opts.put("pretrain_steps", PRETRAIN_STEPS);
        opts.put("align4j", o.align4j().toString());
        r.put("options", opts);
        Map<String, Object> ps = new LinkedHashMap<>();
        for (Part p : parts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("median_seconds", p.seconds().median());
            m.put("min_seconds", p.seconds().min());
            m.put("max_seconds", p.seconds().max());
            m.put("iterations", p.seconds().count());
            m.put("share_percent", finite(p.sharePercent()));
            ps.put(p.name(), m);
        }
        r.put("parts", ps);
        Map<String, Object> it = new LinkedHashMap<>();
        it.put("median_seconds", total.median());
        it.put("min_seconds", total.min());
        it.put("max_seconds", total.max());
        it.put("complete_iterations", total.count());
        r.put("iteration", it);
        r.put("rollouts_per_second", finite(rolloutsPerSecond));
        r.put("generated_tokens_per_second", finite(genTps));
        r.put("mean_completion_tokens", finite(meanLength));
        r.put("train_tokens_per_second", finite(trainTokensPerSecond));
        r.put("peak_rss_bytes", peakKb < 0 ? null : peakKb * 1024);
        r.put("wall_seconds", wall);
        List<Map<String, Object>> per = new ArrayList<>();
        for (int i = 1; i <= last; i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("iteration", i);
            m.put("warmup", i <= o.warmup());
            for (String p : PARTS) {
                m.put(p, finite(seconds(log, p, i)));
            }
            Map<String, Double> x = log.iterations().get(i);
            for (String k : List.of("monitor/length", "objective/scores", "objective/kl")) {
                m.put(k, x == null || x.get(k) == null ? null : finite(x.get(k)));
            }
            per.add(m);
        }
        r.put("iterations", per);
        r.put("logs", logs.toString());
        Main.writeJson(o.out(), r);
        System.out.println("wrote " + o.out());
    }

    private static double[] toArray(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
