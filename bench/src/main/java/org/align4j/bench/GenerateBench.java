package org.align4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.align4j.api.model.CachedForward;
import org.align4j.api.model.KeyValueCache;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.TransformerFactoryImpl;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Generation speed with the KV cache against recomputing the whole prefix for every token: greedy decoding of
 * {@code --new} tokens for a batch of {@code --batch} random prompts of {@code --prompt} tokens, on the example
 * pipeline's model (2 layers, d_model 128, 4 heads, vocabulary 512) with context 320, seeded random weights. Prints
 * tokens/s of both and their ratio, and whether both produced the same tokens. A program, not a test:
 *
 * <pre>
 * mvn -B -o -q -f bench/pom.xml package -DskipTests
 * java -cp "bench/target/classes:bench/target/lib/*" org.align4j.bench.GenerateBench [--new 256] [--batch 8]
 *     [--prompt 32] [--rounds 3]
 * </pre>
 *
 * Both loops are the generate bundle's (Java argmax per row; the cache fetched and fed back as tensors) written out
 * on the model api, so the figure is the model's, not the sampling's. Each figure is the best of {@code --rounds}
 * runs after one untimed warm-up run.
 */
public final class GenerateBench {

    private final ModelConfig config;
    private final Graph graph = new Graph();
    private final Ops tf = Ops.create(graph);
    private final Transformer model;
    private final Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    private final Placeholder<TInt32> positions = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    private final Placeholder<TFloat32> mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
    private final List<Placeholder<TFloat32>> pastK = new ArrayList<>();
    private final List<Placeholder<TFloat32>> pastV = new ArrayList<>();
    private final CachedForward cached;
    private final Operand<TFloat32> cachedNext; // [B, V]
    private final Operand<TFloat32> fullNext; // [B, V]
    private final Session session;

    GenerateBench(ModelConfig config) {
        this.config = config;
        model = new TransformerFactoryImpl().create(tf, "model.", config, new StandardAttention());
        Shape kv = Shape.of(-1, model.keyValueHeads(), -1, config.headSize());
        for (int i = 0; i < config.layers(); i++) {
            pastK.add(tf.placeholder(TFloat32.class, Placeholder.shape(kv)));
            pastV.add(tf.placeholder(TFloat32.class, Placeholder.shape(kv)));
        }
        cached = model.hiddenCached(tf, tokens, positions, mask,
                new KeyValueCache(new ArrayList<>(pastK), new ArrayList<>(pastV)));
        cachedNext = last(cached.hidden());
        fullNext = last(model.hidden(tf, tokens, positions, mask));
        session = new Session(graph);
        model.initialize(session, 7);
    }

    private Operand<TFloat32> last(Operand<TFloat32> hidden) {
        Operand<TInt32> t = tf.gather(tf.shape(hidden), tf.constant(1), tf.constant(0)); // [] T
        Operand<TFloat32> h = tf.gather(hidden, tf.math.sub(t, tf.constant(1)), tf.constant(1)); // [B, d]
        return tf.reshape(model.lmLogits(tf, tf.expandDims(h, tf.constant(1))),
                tf.constant(new int[] {-1, config.vocabSize()})); // [B, V]
    }

    /** Greedy continuation of equal-length prompts; {@code seq} holds the prompts and receives the new tokens. */
    int[][] generate(int[][] prompts, int newTokens, boolean useCache) {
        int b = prompts.length;
        int l = prompts[0].length;
        int[][] seq = new int[b][l + newTokens];
        for (int i = 0; i < b; i++) {
            System.arraycopy(prompts[i], 0, seq[i], 0, l);
        }
        Result past = null;
        try {
            for (int n = 0; n < newTokens; n++) {
                int len = l + n;
                float[] logits;
                if (useCache) {
                    int from = n == 0 ? 0 : len - 1;
                    Result now = runCached(seq, from, len, past);
                    if (past != null) {
                        past.close();
                    }
                    past = now;
                    logits = values((TFloat32) now.get(0));
                } else {
                    try (TInt32 t = ints(seq, 0, len, false); TInt32 p = ints(seq, 0, len, true);
                            TFloat32 m = ones(b, len);
                            Result r = session.runner().feed(tokens, t).feed(positions, p).feed(mask, m)
                                    .fetch(fullNext).run()) {
                        logits = values((TFloat32) r.get(0));
                    }
                }
                int v = config.vocabSize();
                for (int i = 0; i < b; i++) {
                    int best = 0;
                    for (int k = 1; k < v; k++) {
                        if (logits[i * v + k] > logits[i * v + best]) {
                            best = k;
                        }
                    }
                    seq[i][len] = best;
                }
            }
        } finally {
            if (past != null) {
                past.close();
            }
        }
        return seq;
    }

    private Result runCached(int[][] seq, int from, int to, Result past) {
        int b = seq.length;
        try (TInt32 t = ints(seq, from, to, false); TInt32 p = ints(seq, from, to, true); TFloat32 m = ones(b, to);
                TFloat32 empty = TFloat32.tensorOf(Shape.of(b, model.keyValueHeads(), 0, config.headSize()))) {
            Session.Runner r = session.runner().feed(tokens, t).feed(positions, p).feed(mask, m);
            for (int i = 0; i < config.layers(); i++) {
                r.feed(pastK.get(i), past == null ? empty : past.get(1 + 2 * i));
                r.feed(pastV.get(i), past == null ? empty : past.get(2 + 2 * i));
            }
            r.fetch(cachedNext);
            for (int i = 0; i < config.layers(); i++) {
                r.fetch(cached.present().keys().get(i)).fetch(cached.present().values().get(i));
            }
            return r.run();
        }
    }

    /** Columns {@code from .. to-1} of {@code seq}, or their positions. */
    private static TInt32 ints(int[][] seq, int from, int to, boolean positionsOnly) {
        int w = to - from;
        int[] flat = new int[seq.length * w];
        for (int i = 0; i < seq.length; i++) {
            for (int j = 0; j < w; j++) {
                flat[i * w + j] = positionsOnly ? from + j : seq[i][from + j];
            }
        }
        return TInt32.tensorOf(Shape.of(seq.length, w), DataBuffers.of(flat, true, false));
    }

    private static TFloat32 ones(int b, int t) {
        float[] x = new float[b * t];
        Arrays.fill(x, 1f);
        return TFloat32.tensorOf(Shape.of(b, t), DataBuffers.of(x, true, false));
    }

    private static float[] values(TFloat32 t) {
        float[] x = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(x, false, false));
        return x;
    }

    public static void main(String[] argv) {
        int newTokens = 256;
        int batch = 8;
        int promptLength = 32;
        int rounds = 3;
        for (int i = 0; i + 1 < argv.length; i += 2) {
            int v = Integer.parseInt(argv[i + 1]);
            switch (argv[i]) {
                case "--new": newTokens = v; break;
                case "--batch": batch = v; break;
                case "--prompt": promptLength = v; break;
                case "--rounds": rounds = v; break;
                default:
                    System.err.println("usage: GenerateBench [--new 256] [--batch 8] [--prompt 32] [--rounds 3]");
                    System.exit(2);
            }
        }
        ModelConfig config = ModelConfig.builder().vocabSize(512).layers(2).dModel(128).heads(4)
                .context(Math.max(320, promptLength + newTokens)).build();
        SplittableRandom r = new SplittableRandom(7);
        int[][] prompts = new int[batch][];
        for (int i = 0; i < batch; i++) {
            prompts[i] = r.ints(promptLength, 0, config.vocabSize()).toArray();
        }
        GenerateBench bench = new GenerateBench(config);
        System.out.printf(Locale.ROOT, "align4j generation benchmark: %s, batch %d, prompt %d, %d new tokens"
                + " (greedy), %d cores%n", config, batch, promptLength, newTokens,
                Runtime.getRuntime().availableProcessors());
        bench.generate(prompts, 16, true); // warm-up: graph optimisation of both paths
        bench.generate(prompts, 16, false);
        double bestCached = Double.MAX_VALUE;
        double bestFull = Double.MAX_VALUE;
        int[][] a = null;
        int[][] b = null;
        for (int round = 0; round < rounds; round++) {
            long t0 = System.nanoTime();
            a = bench.generate(prompts, newTokens, true);
            long t1 = System.nanoTime();
            b = bench.generate(prompts, newTokens, false);
            long t2 = System.nanoTime();
            bestCached = Math.min(bestCached, (t1 - t0) / 1e9);
            bestFull = Math.min(bestFull, (t2 - t1) / 1e9);
            System.out.printf(Locale.ROOT, "  round %d: KV cache %.2f s, recompute %.2f s%n", round + 1,
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }
        double generated = (double) batch * newTokens;
        System.out.printf(Locale.ROOT, "KV cache:          %8.1f tokens/s (best of %d: %.2f s)%n",
                generated / bestCached, rounds, bestCached);
        System.out.printf(Locale.ROOT, "recompute prefix:  %8.1f tokens/s (best of %d: %.2f s)%n",
                generated / bestFull, rounds, bestFull);
        System.out.printf(Locale.ROOT, "ratio:             %8.2fx (goal >= 5x)%n", bestFull / bestCached);
        System.out.println("same tokens: " + (Arrays.deepEquals(a, b) ? "yes" : "NO"));
        bench.session.close();
        bench.graph.close();
    }
}
