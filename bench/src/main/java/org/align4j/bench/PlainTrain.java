package org.align4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.pipeline.Settings;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.loss.lm.CausalLanguageModelLoss;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.AdamWOptimizer;
import org.align4j.optimizers.CosineSchedule;
import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * The plain side: the benchmark's model trained in plain TensorFlow Java on a flat class path (no OSGi, no
 * Declarative Services, no pipeline), from the same plugin classes align4j runs: {@link TensorFlowRuntimeImpl} (the
 * same session options), {@link TransformerFactoryImpl}, {@link StandardAttention},
 * {@link CausalLanguageModelLoss}, {@link AdamWOptimizer} and {@link CosineSchedule}. The data are random token
 * blocks of the same shape ({@code [16, 129]} ids in {@code [0, 512)} at the small size): the work of a step does
 * not depend on the
 * ids. Each step is timed as the pretrain trainer times it (the schedule, the batch and the session run), and
 * reported as tokens per second of that step.
 *
 * <pre>
 * java -cp &lt;bench class path&gt; org.align4j.bench.PlainTrain --steps 30 [--size small|large] [--threads N]
 *     [--seed 7]
 * </pre>
 * Prints one {@link ResultLine} at the end.
 */
public final class PlainTrain {
    private PlainTrain() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args("PlainTrain", argv, Set.of("steps", "threads", "seed", "size"), Set.of());
        int steps = args.integer("steps", 30, 1, 1_000_000);
        int threads = args.integer("threads", 0, 0, 4096);
        long seed = args.longValue("seed", BenchModel.SEED);
        BenchModel.Size size = args.size();

        long t0 = System.nanoTime();
        ModelConfig config = BenchModel.config(size);
        int batch = size.batch();
        long tokensPerStep = BenchModel.tokensPerStep(config, batch);
        List<Double> tokensPerSecond = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<Double> stepEnds = new ArrayList<>(); // seconds since the first step started
        long trainedParams;
        double setupSeconds;
        String runtimeText;
        try (Setup setup = new Setup(size, threads, seed)) {
            trainedParams = setup.graph.trainedParameterCount();
            runtimeText = setup.runtime.toString();
            System.out.println("plain: " + config + ", " + config.parameterCount() + " parameters; " + runtimeText);
            setupSeconds = (System.nanoTime() - t0) / 1e9;
            SplittableRandom random = new SplittableRandom(seed);
            long first = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                long start = System.nanoTime();
                float lr = (float) setup.schedule.rate(step, steps, setup.optimizerSettings);
                int[][] rows = randomRows(random, batch, config.context() + 1, config.vocabSize());
                float[] out = setup.graph.train(setup.session, rows, lr);
                if (!Float.isFinite(out[0])) {
                    throw new IllegalStateException("loss is " + out[0] + " at step " + (step + 1));
                }
                long end = System.nanoTime();
                double secs = (end - start) / 1e9;
                double tps = tokensPerStep / Math.max(secs, 1e-9);
                tokensPerSecond.add(tps);
                losses.add((double) out[0]);
                stepEnds.add((end - first) / 1e9);
                System.out.printf("plain: step %d/%d loss %.4f grad_norm %.4f %.1f tokens/s%n", step + 1, steps,
                        out[0], out[1], tps);
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "plain");
        result.put("model", config.toString());
        result.put("parameters", trainedParams);
        result.put("runtime", runtimeText);
        result.put("setup_seconds", setupSeconds);
        result.put("step_tokens_per_second", tokensPerSecond);
        result.put("loss", losses);
        result.put("step_end_seconds", stepEnds);
        System.out.println(ResultLine.format(result));
    }

    /**
     * The plain side's graph and session, as every plain run opens them: the runtime (threads: 0 = TensorFlow's
     * choice for both pools; N = N threads inside ops, one op at a time), the training graph from the plugin classes,
     * initialised weights (checked against {@code ModelConfig.parameterCount()}), and the optimizer settings.
     */
    static final class Setup implements AutoCloseable {
        final TensorFlowRuntimeImpl runtime;
        final Graph g = new Graph();
        final PlainLmGraph graph;
        final Session session;
        final CosineSchedule schedule = new CosineSchedule();
        final Settings optimizerSettings = Settings.of("bench", BenchModel.optimizer());

        Setup(BenchModel.Size size, int threads, long seed) {
            ModelConfig config = BenchModel.config(size);
            runtime = new TensorFlowRuntimeImpl("cpu", threads, threads == 0 ? 0 : 1, false, seed);
            AdamWOptimizer optimizer = new AdamWOptimizer();
            schedule.validate(optimizerSettings);
            optimizer.validate(optimizerSettings);
            Ops tf = runtime.ops(g);
            graph = new PlainLmGraph(tf, config, new TransformerFactoryImpl(), new StandardAttention(),
                    new CausalLanguageModelLoss(), optimizer, optimizerSettings);
            if (graph.trainedParameterCount() != config.parameterCount()) {
                g.close();
                throw new IllegalStateException("the graph trains " + graph.trainedParameterCount() + " parameters,"
                        + " but ModelConfig.parameterCount() says " + config.parameterCount()
                        + ": the FLOPs figure would be wrong");
            }
            session = runtime.openSession(g);
            graph.model.initialize(session, seed);
        }

        @Override
        public void close() {
            session.close();
            g.close();
        }
    }

    /** {@code batch} rows of {@code length} ids drawn uniformly from {@code [0, vocab)}. */
    static int[][] randomRows(SplittableRandom random, int batch, int length, int vocab) {
        int[][] rows = new int[batch][length];
        for (int[] row : rows) {
            for (int j = 0; j < length; j++) {
                row[j] = random.nextInt(vocab);
            }
        }
        return rows;
    }
}
