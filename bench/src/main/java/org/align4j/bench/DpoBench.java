package org.align4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * DPO step time with the reference's log-probabilities precomputed once ({@code reference_logps: precompute}, the
 * default) against a reference forward pass in every step ({@code per-batch}): the same pipeline (a one-step
 * pre-training stage that gives the model, then a {@code dpo} stage on synthetic arithmetic pairs) run through the
 * distribution's {@code bin/align4j}, the two settings alternating within each round, in separate JVMs. Prints the
 * median {@code train_tokens_per_second} of each (the first steps of each run are warm-up and left out), their ratio,
 * the one-time cost of the precomputation and the number of steps it takes to pay for itself. A program, not a test:
 *
 * <pre>
 * bench/run --dpo [--rounds 3] [--steps 30] [--batch 16] [--pairs 1024] [--warmup 5]
 * </pre>
 */
public final class DpoBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PRECOMPUTED = Pattern.compile("computed in ([0-9.]+) s");

    private DpoBench() {
    }

    /** One run's figures: the median tokens/s of its steady steps, and the precomputation's seconds (or 0). */
    record Figures(double tokensPerSecond, double precomputeSeconds, double secondsPerStep) {
    }

    static String pipeline(Path dir, Path pairs, int steps, int batch) {
        return String.join("\n",
                "# written by align4j-bench --dpo",
                "run: { name: dpo-bench, workdir: '" + dir + "', seed: 7 }",
                "model: { layers: 3, d_model: 128, heads: 4, context: 96 }",
                "data:",
                "  generate: { name: arithmetic, format: text, difficulty: medium, count: 2000 }",
                "  validation_fraction: 0.01",
                "  tokenizer: { type: bpe, vocab: 320 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 1.0e-3 }",
                "    steps: 1",
                "    batch: 8",
                "    eval: { every: 0, batches: 1 }",
                "    checkpoint: { every: 0, keep: 1 }",
                "    sample: { count: 0 }",
                "  - trainer: dpo",
                "    init: stage-0",
                "    data: { train: '" + pairs + "', validation_fraction: 0 }",
                "    loss: dpo",
                "    optimizer: { name: adamw, lr: 1.0e-5 }",
                "    steps: " + steps,
                "    batch: " + batch,
                "    log_every: 1",
                "    eval: { every: 0, batches: 1 }",
                "    checkpoint: { every: 0, keep: 1 }",
                "    exact_match: { samples: 0 }",
                "");
    }

    /** Worked sums as the SFT data writes them: the chosen answer right, the rejected one off by one. */
    static List<String> pairs(int n) {
        Random r = new Random(11);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int a = 10 + r.nextInt(90);
            int b = 10 + r.nextInt(90);
            String steps = "1. " + a % 10 + "+" + b % 10 + "=" + (a % 10 + b % 10) + "\\n2. " + a / 10 + "+" + b / 10
                    + "=" + (a / 10 + b / 10) + "\\nA: ";
            out.add("{\"prompt\": \"Q: " + a + "+" + b + "=?\\n\", \"chosen\": \"" + steps + (a + b)
                    + "\", \"rejected\": \"" + steps + (a + b + 1 + r.nextInt(9)) + "\"}");
        }
        return out;
    }

    static Figures run(Path align4j, Path dir, Path yaml, String mode, int warmup) throws Exception {
        Path log = dir.resolve("run.log");
        Process p = new ProcessBuilder(align4j.toString(), "run", yaml.toString(), "stages[1].reference_logps=" + mode)
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/align4j run failed (" + mode + "); see " + log);
        }
        List<Double> tps = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        double precompute = 0;
        for (String line : Files.readAllLines(dir.resolve("run").resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode e = JSON.readTree(line);
            if (!"1:dpo".equals(e.path("stage").asText())) {
                continue;
            }
            Matcher m = PRECOMPUTED.matcher(e.path("message").asText(""));
            if ("MESSAGE".equals(e.path("kind").asText()) && m.find()) {
                precompute = Double.parseDouble(m.group(1));
            }
            if ("STEP".equals(e.path("kind").asText()) && e.path("step").asLong() > warmup) {
                tps.add(e.path("metrics").path("train_tokens_per_second").asDouble());
                times.add(e.path("time").asLong());
            }
        }
        if (tps.size() < 2) {
            throw new IllegalStateException(mode + ": too few steps after the warm-up in " + dir);
        }
        double[] t = tps.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(t);
        double perStep = (times.get(times.size() - 1) - times.get(0)) / 1000.0 / (times.size() - 1);
        return new Figures(t[t.length / 2], precompute, perStep);
    }

    public static void main(String[] argv) throws Exception {
        Args args;
        try {
            args = new Args("bench --dpo", argv, java.util.Set.of("rounds", "steps", "batch", "pairs", "warmup",
                    "align4j"), java.util.Set.of("help"));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: bench/run --dpo [--rounds 3] [--steps 30] [--batch 16] [--pairs 1024]"
                    + " [--warmup 5]");
            System.exit(2);
            return;
        }
        if (args.flag("help")) {
            System.out.println("usage: bench/run --dpo [--rounds 3] [--steps 30] [--batch 16] [--pairs 1024]"
                    + " [--warmup 5]");
            return;
        }
        int rounds = args.integer("rounds", 3, 1, 1_000_000);
        int steps = args.integer("steps", 30, 3, 1_000_000);
        int batch = args.integer("batch", 16, 1, 1_000_000);
        int pairs = args.integer("pairs", 1024, 1, 1_000_000);
        int warmup = args.integer("warmup", 5, 0, 1_000_000);
        if (warmup >= steps - 1) {
            System.err.println("bench --dpo: --warmup " + warmup + " leaves fewer than 2 of --steps " + steps);
            System.exit(2);
        }
        Path repo = Path.of(System.getProperty("align4j.bench.dir", "bench")).toAbsolutePath().getParent();
        Path align4j = Path.of(args.string("align4j", repo.resolve("distribution/target/align4j/bin/align4j")
                .toString())).toAbsolutePath();
        Path root = Files.createTempDirectory("align4j-dpo-bench-");
        Path pairsFile = root.resolve("pairs.jsonl");
        Files.write(pairsFile, pairs(pairs), StandardCharsets.UTF_8);
        List<Figures> pre = new ArrayList<>();
        List<Figures> per = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (String mode : round % 2 == 1 ? List.of("precompute", "per-batch") : List.of("per-batch",
                    "precompute")) {
                Path dir = Files.createDirectories(root.resolve(mode + "-" + round));
                Path yaml = dir.resolve("pipeline.yaml");
                Files.writeString(yaml, pipeline(dir.resolve("run"), pairsFile, steps, batch), StandardCharsets.UTF_8);
                Figures f = run(align4j, dir, yaml, mode, warmup);
                (mode.equals("precompute") ? pre : per).add(f);
                System.out.printf(Locale.ROOT, "round %d %-10s %,9.0f tok/s  %.3f s/step%s%n", round, mode,
                        f.tokensPerSecond(), f.secondsPerStep(), f.precomputeSeconds() > 0 ? String.format(Locale.ROOT,
                                "  (reference log-probs of %d pairs precomputed in %.1f s)", pairs,
                                f.precomputeSeconds()) : "");
            }
        }
        double a = median(pre.stream().mapToDouble(Figures::tokensPerSecond).toArray());
        double b = median(per.stream().mapToDouble(Figures::tokensPerSecond).toArray());
        double sa = median(pre.stream().mapToDouble(Figures::secondsPerStep).toArray());
        double sb = median(per.stream().mapToDouble(Figures::secondsPerStep).toArray());
        double once = median(pre.stream().mapToDouble(Figures::precomputeSeconds).toArray());
        System.out.printf(Locale.ROOT, "dpo step (batch %d pairs, 3 layers, d_model 128): precompute %,.0f tok/s"
                + " (%.3f s/step), per-batch %,.0f tok/s (%.3f s/step); ratio %.2f; the precomputation (%d pairs)"
                + " took %.1f s once, paid back after %.0f steps%n", batch, a, sa, b, sb, a / b, pairs, once,
                sb > sa ? once / (sb - sa) : Double.POSITIVE_INFINITY);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
