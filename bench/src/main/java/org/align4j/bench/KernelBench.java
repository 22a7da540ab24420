package org.align4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.pipeline.Settings;
import org.align4j.attention.fast.FastAttention;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.attention.window.SlidingWindowAttention;
import org.align4j.generate.GeneratorImpl;
import org.align4j.loss.lm.CausalLanguageModelLoss;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.AdamWOptimizer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The attention kernels side by side: for each context size (128 and 1024), position scheme (learned, rope, alibi)
 * (and grouped-query attention with one key/value head, and a sliding window of an eighth of the context) and kernel
 * ({@code mha}, the reference, {@code mha-fast}, and for the window {@code sliding-window}), the time of one training
 * step (forward, backward and
 * AdamW on the benchmark's 2-layer model, d_model 128, 4 heads, as {@link PlainLmGraph} builds it with that kernel),
 * greedy KV-cached decoding tokens/s through the product's {@code Generator}, and the peak resident set of the JVM
 * that ran it. Each (size, scheme, kernel) runs in a JVM of its own, the kernels alternating within each round, so
 * the peak memory is that configuration's and the ratios are measured side by side. A program, not a test:
 *
 * <pre>
 * bench/run --kernels [--rounds 3] [--steps 8] [--schemes learned,rope,alibi,gqa,window]
 * </pre>
 *
 * Prints the medians over the rounds and each kernel's ratios to {@code mha} (above 1: faster; memory below 1: less).
 */
public final class KernelBench {

    private KernelBench() {
    }

    static final int[][] SIZES = {{128, 16}, {1024, 2}}; // context, batch: 2,048 tokens a step either way
    /**
     * Position schemes, "gqa": learned positions with one key/value head for the four query heads, and "window":
     * learned positions with a sliding window of an eighth of the context (16 and 128 keys).
     */
    static final String[] SCHEMES = {"learned", "rope", "alibi", "gqa", "window"};
    static final String[] KERNELS = {"mha", "mha-fast", "sliding-window"};

    /** The kernels a scheme is run with: every scheme with mha and mha-fast, the window also with sliding-window. */
    static List<String> kernels(String scheme) {
        return scheme.equals("window") ? List.of(KERNELS) : List.of("mha", "mha-fast");
    }

    static ModelConfig config(int context, String scheme) {
        ModelConfig.Builder b = ModelConfig.builder().vocabSize(512).layers(2).dModel(128).heads(4).context(context);
        return switch (scheme) {
            case "gqa" -> b.kvHeads(1).build();
            case "window" -> b.window(context / 8).build();
            default -> b.positions(Positions.valueOf(scheme.toUpperCase(Locale.ROOT))).build();
        };
    }

    static AttentionKernel kernel(String name) {
        return switch (name) {
            case "mha" -> new StandardAttention();
            case "mha-fast" -> new FastAttention();
            default -> new SlidingWindowAttention();
        };
    }

    /**
     * One configuration, in this JVM: prints {@code RESULT <train ms> <decode tokens/s> <peak KiB> <attention ms>}, the
     * last the kernel alone (forward and the gradients to Q, K and V) on the step's shapes.
     */
    static void child(String kernelName, String scheme, int context, int batch, int steps) throws Exception {
        ModelConfig config = config(context, scheme);
        AttentionKernel kernel = kernel(kernelName);
        Settings optimizerSettings = Settings.of("bench", BenchModel.optimizer());
        AdamWOptimizer optimizer = new AdamWOptimizer();
        optimizer.validate(optimizerSettings);
        SplittableRandom random = new SplittableRandom(7);
        double[] stepMs = new double[steps];
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            PlainLmGraph graph = new PlainLmGraph(tf, config, new TransformerFactoryImpl(), kernel,
                    new CausalLanguageModelLoss(), optimizer, optimizerSettings);
            try (Session s = new Session(g)) {
                graph.model.initialize(s, 7);
                for (int i = -2; i < steps; i++) { // two untimed warm-up steps
                    int[][] rows = PlainTrain.randomRows(random, batch, context + 1, config.vocabSize());
                    long t0 = System.nanoTime();
                    float[] out = graph.train(s, rows, 1e-4f);
                    if (!Float.isFinite(out[0])) {
                        throw new IllegalStateException("loss " + out[0]);
                    }
                    if (i >= 0) {
                        stepMs[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
        }
        // decoding: prompts of half the context, 64 new tokens each, batch 4, the KV cache
        int prompt = context / 2;
        int newTokens = 64;
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(random.ints(prompt, 0, config.vocabSize()).toArray());
        }
        GenerationSettings greedy = GenerationSettings.builder().temperature(0).maxNewTokens(newTokens).maxBatch(4)
                .cache(true).build();
        GeneratorImpl generator = new GeneratorImpl(new TransformerFactoryImpl(), new SafetensorsWeightStore(), null);
        double best = Double.MAX_VALUE;
        long made = 0;
        try (GenerationSession session = generator.open(config, kernel, GenerateBench.weights(config, 7))) {
            session.generate(prompts, greedy.toBuilder().maxNewTokens(8).build()); // warm-up
            for (int r = 0; r < 2; r++) {
                long t0 = System.nanoTime();
                made = GenerateBench.count(GenerateBench.tokens(session.generate(prompts, greedy)));
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
        }
        double attentionMs = attentionAlone(config, kernel, batch, context);
        System.out.printf(Locale.ROOT, "RESULT %.3f %.1f %d %.3f%n", Stats.median(stepMs), made / best,
                GenerateBench.peakRssKb(), attentionMs);
    }

    /**
     * The median time of the kernel alone over 20 runs after 3 warm-up runs: causal attention of random Q
     * {@code [B, H, T, D]} and K, V {@code [B, Hkv, T, D]} with the model's window and ALiBi slopes, and the gradients
     * of {@code sum(out * W)} with respect to Q, K and V, as one layer's attention costs in a training step.
     */
    static double attentionAlone(ModelConfig config, AttentionKernel kernel, int batch, int context) {
        int d = config.dModel() / config.heads();
        SplittableRandom random = new SplittableRandom(11);
        TFloat32[] data = {randomTensor(random, batch, config.heads(), context, d),
            randomTensor(random, batch, config.kvHeads(), context, d),
            randomTensor(random, batch, config.kvHeads(), context, d),
            randomTensor(random, batch, config.heads(), context, d)};
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            // placeholders shaped as the model's: batch and length known only when run, heads and head size static
            List<Placeholder<TFloat32>> in = new ArrayList<>();
            for (int heads : new int[] {config.heads(), config.kvHeads(), config.kvHeads(), config.heads()}) {
                in.add(tf.placeholder(TFloat32.class, Placeholder.shape(
                        Shape.of(-1, heads, -1, d))));
            }
            AttentionInputs inputs = AttentionInputs.of(
                    in.get(0), in.get(1), in.get(2)).withWindow(config.window());
            if (config.positions() == Positions.ALIBI) {
                inputs.withAlibiSlopes(config.alibiSlopes());
            }
            Operand<TFloat32> out = kernel.attend(tf, inputs);
            Output<?>[] grads = g.addGradients(tf.reduceSum(tf.math.mul(out, in.get(3)),
                    tf.constant(new int[] {0, 1, 2, 3})).asOutput(),
                    new Output<?>[] {in.get(0).asOutput(), in.get(1).asOutput(), in.get(2).asOutput()});
            double[] ms = new double[20];
            for (int i = -3; i < ms.length; i++) {
                Session.Runner runner = s.runner().fetch(grads[0]).fetch(grads[1]).fetch(grads[2]);
                for (int j = 0; j < 4; j++) {
                    runner.feed(in.get(j), data[j]);
                }
                long t0 = System.nanoTime();
                try (Result r = runner.run()) {
                    if (i >= 0) {
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            return Stats.median(ms);
        } finally {
            for (TFloat32 t : data) {
                t.close();
            }
        }
    }

    private static TFloat32 randomTensor(SplittableRandom random, int... shape) {
        int n = 1;
        for (int x : shape) {
            n *= x;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        return TFloat32.tensorOf(Shape.of(dims),
                DataBuffers.of(values, true, false));
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length > 0 && argv[0].equals("--child")) {
            child(argv[1], argv[2], Integer.parseInt(argv[3]), Integer.parseInt(argv[4]),
                    Integer.parseInt(argv[5]));
            return;
        }
        int rounds;
        int steps;
        List<String> schemes;
        try {
            Args args = new Args("bench --kernels", argv, Set.of("rounds", "steps", "schemes"), Set.of());
            rounds = args.integer("rounds", 3, 1, 100);
            steps = args.integer("steps", 8, 1, 10_000);
            schemes = List.of(args.string("schemes", String.join(",", SCHEMES)).split(","));
            for (String scheme : schemes) {
                if (!List.of(SCHEMES).contains(scheme)) {
                    throw args.usage("--schemes: unknown scheme \"" + scheme + "\" (known: "
                            + String.join(", ", SCHEMES) + ")");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: bench/run --kernels [--rounds 3] [--steps 8] [--schemes "
                    + String.join(",", SCHEMES) + "]");
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "align4j attention-kernel benchmark: 2 layers, d_model 128, 4 heads, vocabulary"
                + " 512; a training step (AdamW) on 2,048 tokens, greedy cached decoding of 64 tokens for 4 prompts"
                + " of half the context; each configuration in its own JVM; %d rounds, %d timed steps, %d cores%n",
                rounds, steps, Runtime.getRuntime().availableProcessors());
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int[] size : SIZES) {
                for (String scheme : schemes) {
                    List<String> kernels = kernels(scheme);
                    for (int k = 0; k < kernels.size(); k++) {
                        String kernel = kernels.get((k + round) % kernels.size()); // alternate which goes first
                        double[] r = spawn(kernel, scheme, size[0], size[1], steps);
                        results.computeIfAbsent(key(size[0], scheme, kernel), x -> new ArrayList<>()).add(r);
                        System.out.printf(Locale.ROOT, "  round %d: context %d %s %s: step %.1f ms, decode %.0f"
                                + " tokens/s, peak %.0f MiB, attention alone %.2f ms%n", round + 1, size[0], scheme,
                                kernel, r[0], r[1], r[2] / 1024, r[3]);
                    }
                }
            }
        }
        System.out.println();
        System.out.println("| context | positions | kernel | train step ms | decode tokens/s | peak MiB | attention"
                + " fwd+bwd ms | step speed-up | decode speed-up | memory | attention speed-up |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (int[] size : SIZES) {
            for (String scheme : schemes) {
                double[] ref = medians(results.get(key(size[0], scheme, "mha")));
                for (String kernel : kernels(scheme)) {
                    double[] m = medians(results.get(key(size[0], scheme, kernel)));
                    System.out.printf(Locale.ROOT, "| %d | %s | %s | %.1f | %.0f | %.0f | %.2f | %.2fx | %.2fx | %.2f"
                            + " | %.2fx |%n", size[0], scheme, kernel, m[0], m[1], m[2] / 1024, m[3],
                            ref[0] / m[0], m[1] / ref[1], m[2] / ref[2], ref[3] / m[3]);
                }
            }
        }
    }

    private static String key(int context, String scheme, String kernel) {
        return context + "/" + scheme + "/" + kernel;
    }

    private static double[] medians(List<double[]> runs) {
        double[] out = new double[4];
        for (int j = 0; j < 4; j++) {
            double[] xs = new double[runs.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = runs.get(i)[j];
            }
            out[j] = Stats.median(xs);
        }
        return out;
    }

    /** Runs one configuration in a child JVM with this class path; {train ms, decode tokens/s, peak KiB}. */
    private static double[] spawn(String kernel, String scheme, int context, int batch, int steps)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KernelBench.class.getName(), "--child", kernel, scheme, String.valueOf(context),
                String.valueOf(batch), String.valueOf(steps));
        pb.redirectErrorStream(true);
        pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
        Process p = pb.start();
        String result = null;
        StringBuilder log = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null;) {
                if (line.startsWith("RESULT ")) {
                    result = line;
                } else {
                    log.append(line).append('\n');
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0 || result == null) {
            throw new IllegalStateException("kernel benchmark child (" + kernel + ", " + scheme + ", context "
                    + context + ") exited with " + exit + ":\n" + log);
        }
        String[] f = result.split(" ");
        return new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
            Double.parseDouble(f[4])};
    }
}
