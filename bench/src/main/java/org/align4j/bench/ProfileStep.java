package org.align4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.align4j.api.model.ModelConfig;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;

/**
 * Where a training step's time goes, as TensorFlow measures it: the plain side's step ({@link PlainTrain.Setup}, the
 * graph align4j's pretrain trainer builds) run with the full trace ({@code RunOptions.trace_level = FULL_TRACE}), and
 * every node of {@code RunMetadata.step_stats} summed by op type, and by op type and output shape (which tells the
 * dense projections {@code [2048, 256]} from the attention scores {@code [16, 4, 128, 128]}, the feed-forward
 * {@code [2048, 1024]} and the logits {@code [2048, 512]}), forward and gradient together. Op time is summed over
 * nodes: with several threads it can exceed the step's wall time. The kernel is the one that ran, after grappler's
 * rewrites ({@code _MklMatMul}, {@code _FusedMatMul}). Also by part of the step ({@link StepParts}: matmuls,
 * attention, normalisation, activations, embedding, loss, optimizer, other).
 *
 * <pre>
 * java -cp &lt;bench class path&gt; org.align4j.bench.ProfileStep [--size small|large] [--warmup 10] [--traces 5]
 *     [--threads N] [--top 25]
 * </pre>
 */
public final class ProfileStep {
    private ProfileStep() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args("ProfileStep", argv, Set.of("warmup", "traces", "threads", "seed", "top", "size"), Set.of());
        int warmup = args.integer("warmup", 10, 0, 100_000);
        int traces = args.integer("traces", 5, 1, 1000);
        int threads = args.integer("threads", 0, 0, 4096);
        long seed = args.longValue("seed", BenchModel.SEED);
        int top = args.integer("top", 25, 1, 100_000);
        BenchModel.Size size = args.size();
        ModelConfig config = BenchModel.config(size);
        int batch = size.batch();
        Map<String, Double> byType = new TreeMap<>();
        Map<String, Double> byTypeAndShape = new TreeMap<>();
        Map<String, Integer> nodes = new TreeMap<>();
        Map<String, Double> byPart = new LinkedHashMap<>();
        Map<String, Integer> partNodes = new TreeMap<>();
        for (String p : StepParts.PARTS) {
            byPart.put(p, 0.0);
            partNodes.put(p, 0);
        }
        double wallMicros = 0;
        String runtime;
        try (PlainTrain.Setup setup = new PlainTrain.Setup(size, threads, seed)) {
            runtime = setup.runtime.toString();
            StepParts parts = new StepParts(setup.g);
            SplittableRandom random = new SplittableRandom(seed);
            int total = warmup + traces;
            for (int step = 0; step < total; step++) {
                float lr = (float) setup.schedule.rate(step, total, setup.optimizerSettings);
                int[][] rows = PlainTrain.randomRows(random, batch, config.context() + 1, config.vocabSize());
                if (step < warmup) {
                    setup.graph.train(setup.session, rows, lr);
                    continue;
                }
                long t0 = System.nanoTime();
                RunMetadata md = setup.graph.profile(setup.session, rows, lr);
                wallMicros += (System.nanoTime() - t0) / 1e3;
                for (DeviceStepStats dev : md.getStepStats().getDevStatsList()) {
                    for (NodeExecStats node : dev.getNodeStatsList()) {
                        GraphOperation op = setup.g.operation(node.getNodeName());
                        String type = kernelType(node, op);
                        double micros = node.getAllEndRelMicros();
                        String shape = node.getOutputCount() == 0 ? "[]" : node.getOutput(0).getTensorDescription()
                                .getShape().getDimList().stream().map(d -> Long.toString(d.getSize())).toList()
                                .toString();
                        byType.merge(type, micros, Double::sum);
                        byTypeAndShape.merge(type + " " + shape, micros, Double::sum);
                        nodes.merge(type + " " + shape, 1, Integer::sum);
                        String part = parts.part(node.getNodeName(), type);
                        byPart.merge(part, micros, Double::sum);
                        partNodes.merge(part, 1, Integer::sum);
                    }
                }
            }
        }
        double sum = byType.values().stream().mapToDouble(Double::doubleValue).sum();
        System.out.printf(Locale.ROOT, "profile of one training step (%d traced after %d untraced; %s)%n", traces,
                warmup, runtime);
        System.out.printf(Locale.ROOT, "  traced step wall time %.1f ms; op time summed over nodes %.1f ms%n%n",
                wallMicros / traces / 1e3, sum / traces / 1e3);
        Map<String, Object> partMs = print("part of the step", byPart, partNodes, sum, traces, top);
        System.out.println("  (forward ops by name scope; gradient ops by kernel, else by the forward tensors they"
                + " read: approximate at the parts' edges)");
        System.out.println();
        Map<String, Object> types = print("op type", byType, null, sum, traces, top);
        System.out.println();
        Map<String, Object> shapes = print("op type and output shape", byTypeAndShape, nodes, sum, traces, top);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "profile");
        result.put("runtime", runtime);
        result.put("traced_steps", traces);
        result.put("step_wall_ms", wallMicros / traces / 1e3);
        result.put("op_ms", sum / traces / 1e3);
        result.put("part_ms", partMs);
        result.put("op_type_ms", types);
        result.put("op_type_shape_ms", shapes);
        System.out.println(ResultLine.format(result));
    }

    /**
     * The op type that ran: from the node's timeline label ({@code name = Type(inputs)}), which names the kernel
     * after grappler's rewrites ({@code _MklMatMul}, {@code _FusedMatMul}); else the graph's op type.
     */
    static String kernelType(NodeExecStats node, GraphOperation op) {
        String label = node.getTimelineLabel();
        int eq = label.indexOf(" = ");
        int paren = label.indexOf('(', Math.max(eq, 0));
        if (eq > 0 && paren > eq + 3) {
            return label.substring(eq + 3, paren).trim();
        }
        return op == null ? "(runtime)" : op.type();
    }

    /** The {@code top} keys by time: ms per step, share, and (when given) nodes per step. */
    private static Map<String, Object> print(String what, Map<String, Double> micros, Map<String, Integer> nodes,
            double sum, int traces, int top) {
        List<Map.Entry<String, Double>> rows = new ArrayList<>(micros.entrySet());
        rows.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
        System.out.printf("%-44s %10s %7s%s%n", what, "ms/step", "share", nodes == null ? "" : "   nodes");
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : rows.subList(0, Math.min(rows.size(), top))) {
            double ms = e.getValue() / traces / 1e3;
            System.out.printf(Locale.ROOT, "%-44s %10.2f %6.1f%%%s%n", e.getKey(), ms, 100 * e.getValue() / sum,
                    nodes == null ? "" : String.format(Locale.ROOT, " %7d", nodes.get(e.getKey()) / traces));
            out.put(e.getKey(), ms);
        }
        return out;
    }
}
