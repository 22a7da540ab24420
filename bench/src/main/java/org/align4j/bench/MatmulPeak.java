package org.align4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;

/**
 * The reference for model FLOPs utilisation: the float32 FLOP/s of one large matrix product ({@code n x n} by
 * {@code n x n}, {@code 2 n^3} FLOPs) in TensorFlow Java, in a session with the same options as the training runs.
 * The operands are variables (so nothing can be folded into a constant), filled once; each timed run computes the
 * product and fetches nothing.
 *
 * <pre>
 * java -cp &lt;bench class path&gt; org.align4j.bench.MatmulPeak --n 2048 --reps 5 [--threads N]
 * </pre>
 */
public final class MatmulPeak {
    private MatmulPeak() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args("MatmulPeak", argv, Set.of("n", "reps", "warmup", "threads", "precision"), Set.of());
        int n = args.integer("n", 2048, 16, 16384);
        int reps = args.integer("reps", 5, 1, 1000);
        int warmup = args.integer("warmup", 2, 1, 1000);
        int threads = args.integer("threads", 0, 0, 4096);
        String precision = args.string("precision", "fp32");
        if (!precision.equals("fp32") && !precision.equals("bf16")) {
            throw args.usage("--precision: expected fp32 or bf16, got \"" + precision + "\"");
        }
        TensorFlowRuntimeImpl runtime = new TensorFlowRuntimeImpl("cpu", threads, threads == 0 ? 0 : 1, false,
                BenchModel.SEED);
        List<Double> seconds = new ArrayList<>();
        try (Graph g = new Graph()) {
            Ops tf = runtime.ops(g);
            Ops init = tf.withInitScope();
            Operand<TFloat32> a = tf.variable(init.random.randomUniform(init.constant(new int[] {n, n}),
                    TFloat32.class, RandomUniform.seed(1L).seed2(2L))); // [n, n]
            Operand<TFloat32> b = tf.variable(init.random.randomUniform(init.constant(new int[] {n, n}),
                    TFloat32.class, RandomUniform.seed(3L).seed2(4L))); // [n, n]
            Operand<?> c;
            if (precision.equals("bf16")) { // operands stored in bfloat16, as a bf16 model's weights would be cast
                Operand<TBfloat16> a16 = tf.variable(init.dtypes.cast(init.random.randomUniform(init.constant(
                        new int[] {n, n}), TFloat32.class, RandomUniform.seed(5L).seed2(6L)), TBfloat16.class));
                Operand<TBfloat16> b16 = tf.variable(init.dtypes.cast(init.random.randomUniform(init.constant(
                        new int[] {n, n}), TFloat32.class, RandomUniform.seed(7L).seed2(8L)), TBfloat16.class));
                c = tf.linalg.matMul(a16, b16); // [n, n]
            } else {
                c = tf.linalg.matMul(a, b); // [n, n]
            }
            try (Session s = runtime.openSession(g)) {
                for (int i = 0; i < warmup + reps; i++) {
                    long start = System.nanoTime();
                    try (Result r = s.runner().addTarget(c).run()) {
                        double secs = (System.nanoTime() - start) / 1e9;
                        if (i >= warmup) {
                            seconds.add(secs);
                        }
                    }
                }
            }
        }
        double median = Stats.median(seconds.stream().mapToDouble(Double::doubleValue).toArray());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "matmul");
        result.put("n", n);
        result.put("precision", precision);
        result.put("runtime", runtime.toString());
        result.put("seconds", seconds);
        result.put("flops_per_second", BenchModel.matmulFlops(n) / median);
        System.out.println(ResultLine.format(result));
    }
}
