package org.align4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.generate.GeneratorImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * Generation speed of the product's {@code Generator} service with the KV cache against recomputing the whole prefix
 * for every token: {@link GeneratorImpl} (the generate bundle's component, built here with the model bundle's
 * {@link TransformerFactoryImpl} and {@link SafetensorsWeightStore}) opens one {@link GenerationSession}, and
 * {@link GenerationSession#generate} runs greedy decoding of {@code --tokens} new tokens for a batch of
 * {@code --batch} random prompts of {@code --prompt} tokens, once with {@code cache(true)} and once with
 * {@code cache(false)}. The model is the example pipeline's (2 layers, d_model 128, 4 heads, vocabulary 512) with
 * context 320 and seeded random weights. Prints tokens/s of both paths, their ratio (goal: at least 5x), whether both
 * produced the same tokens, and the peak resident set of this JVM. A program, not a test:
 *
 * <pre>
 * bench/run --generate [--rounds 3] [--tokens 256] [--batch 8] [--prompt 32]
 * </pre>
 *
 * Each figure is the best of {@code --rounds} timed calls after one untimed warm-up call of each path; the two paths
 * alternate within a round. The session has TensorFlow's default options (no {@code TensorFlowRuntime}: the runtime
 * classes are not on the flat class path), as the distribution has with its default settings.
 */
public final class GenerateBench {

    private GenerateBench() {
    }

    /** The example pipeline's model with room for the prompt and the new tokens. */
    static ModelConfig config(int promptLength, int newTokens) {
        return ModelConfig.builder().vocabSize(512).layers(2).dModel(128).heads(4)
                .context(Math.max(320, promptLength + newTokens)).build();
    }

    /** Seeded initial weights under the prefix a pretrain run writes ({@code model.}). */
    static Map<String, TensorData> weights(ModelConfig config, long seed) {
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                return m.read(s);
            }
        }
    }

    private static boolean onClassPath(String className) {
        try {
            Class.forName(className, false, GenerateBench.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** {@code batch} prompts of {@code length} ids drawn uniformly (seed 7), the same on both sides. */
    static List<int[]> prompts(ModelConfig config, int batch, int length) {
        SplittableRandom random = new SplittableRandom(7);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            prompts.add(random.ints(length, 0, config.vocabSize()).toArray());
        }
        return prompts;
    }

    /** The new tokens of each prompt's single completion. */
    static int[][] tokens(List<List<Completion>> out) {
        int[][] t = new int[out.size()][];
        for (int i = 0; i < t.length; i++) {
            t[i] = out.get(i).get(0).tokens();
        }
        return t;
    }

    static long count(int[][] tokens) {
        long n = 0;
        for (int[] row : tokens) {
            n += row.length;
        }
        return n;
    }

    /** The peak resident set of this JVM in KiB ({@code VmHWM}), or -1 where {@code /proc} has none. */
    static long peakRssKb() {
        try {
            OptionalLong kb = ProcStatus.vmHwmKb(Files.readString(Path.of("/proc/self/status")));
            return kb.orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    public static void main(String[] argv) {
        int code = run(argv);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** The benchmark; returns the exit code (0, or 2 for a bad option, 1 when the peer fails). */
    static int run(String[] argv) {
        Args args;
        int rounds;
        int newTokens;
        int batch;
        int promptLength;
        try {
            args = new Args("bench --generate", argv, Set.of("rounds", "tokens", "batch", "prompt"),
                    Set.of("help", "no-peer"));
            rounds = args.integer("rounds", 3, 1, 1000);
            newTokens = args.integer("tokens", 256, 1, 100_000);
            batch = args.integer("batch", 8, 1, 4096);
            promptLength = args.integer("prompt", 32, 1, 100_000);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: bench/run --generate [--rounds 3] [--tokens 256] [--batch 8] [--prompt 32]"
                    + " [--no-peer]");
            return 2;
        }
        if (args.flag("help")) {
            System.out.println("usage: bench/run --generate [--rounds 3] [--tokens 256] [--batch 8] [--prompt 32]"
                    + " [--no-peer]");
            return 0;
        }
        ModelConfig config = config(promptLength, newTokens);
        List<int[]> prompts = prompts(config, batch, promptLength);
        GenerationSettings.Builder greedy = GenerationSettings.builder().temperature(0).maxNewTokens(newTokens)
                .maxBatch(batch);
        GenerationSettings cached = greedy.cache(true).build();
        GenerationSettings recompute = greedy.cache(false).build();
        GenerationSettings warmCached = cached.toBuilder().maxNewTokens(Math.min(16, newTokens)).build();
        GenerationSettings warmRecompute = recompute.toBuilder().maxNewTokens(Math.min(16, newTokens)).build();

        GeneratorImpl generator = new GeneratorImpl(new TransformerFactoryImpl(), new SafetensorsWeightStore(), null);
        System.out.printf(Locale.ROOT, "align4j generation benchmark (Generator service, GenerationSession.generate):"
                + " %s, batch %d, prompt %d, %d new tokens (greedy), %d cores%n", config, batch, promptLength,
                newTokens, Runtime.getRuntime().availableProcessors());
        double bestCached = Double.MAX_VALUE;
        double bestRecompute = Double.MAX_VALUE;
        int[][] a = null;
        int[][] b = null;
        Map<String, TensorData> weights = weights(config, 7);
        try (GenerationSession session = generator.open(config, new StandardAttention(), weights)) {
            session.generate(prompts, warmCached); // warm-up: TensorFlow's graph optimisation of both paths
            session.generate(prompts, warmRecompute);
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                a = tokens(session.generate(prompts, cached));
                long t1 = System.nanoTime();
                b = tokens(session.generate(prompts, recompute));
                long t2 = System.nanoTime();
                bestCached = Math.min(bestCached, (t1 - t0) / 1e9);
                bestRecompute = Math.min(bestRecompute, (t2 - t1) / 1e9);
                System.out.printf(Locale.ROOT, "  round %d: KV cache %.2f s, recompute %.2f s%n", round + 1,
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            }
        }
        long generatedCached = count(a);
        long generatedRecompute = count(b);
        System.out.printf(Locale.ROOT, "KV cache (cache=true):          %8.1f tokens/s (%d tokens, best of %d:"
                + " %.2f s)%n", generatedCached / bestCached, generatedCached, rounds, bestCached);
        System.out.printf(Locale.ROOT, "recompute prefix (cache=false): %8.1f tokens/s (%d tokens, best of %d:"
                + " %.2f s)%n", generatedRecompute / bestRecompute, generatedRecompute, rounds, bestRecompute);
        double ratio = (generatedCached / bestCached) / (generatedRecompute / bestRecompute);
        System.out.printf(Locale.ROOT, "ratio:                          %8.2fx (goal >= 5x: %s)%n", ratio,
                ratio >= 5 ? "met" : "NOT met");
        boolean same = Arrays.deepEquals(a, b);
        System.out.println("same tokens:                    " + (same ? "yes" : "NO"));
        long rss = peakRssKb();
        System.out.println("peak RSS (VmHWM):               "
                + (rss < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", rss / 1024.0)));
        if (!args.flag("no-peer")) {
            try {
                peer(weights, a, generatedCached / bestCached, rounds, newTokens, batch, promptLength);
            } catch (Exception e) {
                System.err.println("align4j bench --generate: the DJL peer failed: " + e.getMessage());
                return 1;
            }
        }
        return 0;
    }

    /**
     * The peer: {@link DjlGenerate} in a JVM of its own (DJL and PyTorch's CPU build from {@code target/lib-djl}),
     * on the same weights (written to a temporary {@code model.safetensors}) and prompts; prints its tokens/s,
     * align4j's KV-cached tokens/s over it, and how many of the greedy tokens agree.
     */
    private static void peer(Map<String, TensorData> weights, int[][] ours, double ourRate, int rounds, int newTokens,
            int batch, int promptLength) throws Exception {
        Path lib = Main.benchDir().resolve("target/lib-djl");
        String classPath = System.getProperty("java.class.path");
        if (Files.isDirectory(lib)) { // bench/run's flat class path holds no DJL: its jars are in target/lib-djl
            classPath = classPath + java.io.File.pathSeparator + lib + java.io.File.separator + "*";
        } else if (!onClassPath("ai.djl.pytorch.engine.PtEngine")) { // else this JVM's (the build's tests) must
            throw new IllegalStateException(lib + " is missing: build the bench module (mvn -q -B -DskipTests -pl"
                    + " bench -am install), or pass --no-peer");
        }
        Path tmp = Files.createTempDirectory("align4j-generate-");
        try {
            Path file = tmp.resolve("model.safetensors");
            new SafetensorsWeightStore().save(file, weights, Map.of());
            Path log = tmp.resolve("djl.log");
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    classPath, DjlGenerate.class.getName(), "--weights", file.toString(), "--rounds",
                    Integer.toString(rounds), "--tokens", Integer.toString(newTokens), "--batch",
                    Integer.toString(batch), "--prompt", Integer.toString(promptLength));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(3600, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("DjlGenerate still running after an hour; see " + log);
            }
            List<String> lines = Files.readAllLines(log);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("DjlGenerate exited with " + p.exitValue() + ":\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
            }
            com.fasterxml.jackson.databind.JsonNode r = ResultLine.parse(lines, log.toString());
            double djl = r.get("tokens_per_second").asDouble();
            long agree = 0;
            int sameRows = 0;
            for (int i = 0; i < ours.length; i++) {
                boolean same = true;
                for (int j = 0; j < ours[i].length; j++) {
                    boolean eq = r.get("tokens").get(i).get(j).asInt() == ours[i][j];
                    agree += eq ? 1 : 0;
                    same &= eq;
                }
                sameRows += same ? 1 : 0;
            }
            long rss = r.path("peak_rss_kb").asLong(-1);
            System.out.printf(Locale.ROOT, "DJL on PyTorch, KV cache:       %8.1f tokens/s (best of %d; %s; peak RSS"
                    + " %s)%n", djl, rounds, r.path("runtime").asText(),
                    rss < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", rss / 1024.0));
            System.out.printf(Locale.ROOT, "align4j / DJL (KV cache):       %8.2fx%n", ourRate / djl);
            System.out.printf(Locale.ROOT, "same greedy tokens as DJL:      %d of %d rows whole, %.1f%% of tokens"
                    + " (greedy decoding in float32 parts ways at near ties)%n", sameRows, ours.length,
                    100.0 * agree / count(ours));
        } finally {
            Main.deleteTree(tmp);
        }
    }
}
