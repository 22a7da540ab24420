package org.align4j.loss.listwise;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.loss.LossResult;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Runs a listwise loss on a batch in TensorFlow, and holds the double-precision pieces the references share. A batch
 * is B lists of K completions, flattened row-major; {@code mask > 0} marks a real completion.
 */
final class Harness {
    /** A reference loss: a plain function of the scores (double), ranks and mask. */
    interface Reference {
        double loss(double[] scores, int[] ranks, float[] mask);
    }

    /** Loss, accuracy, margin and d loss / d scores from the graph. */
    static final class Run {
        float loss;
        float accuracy;
        float margin;
        float[] grad;
    }

    final int b;
    final int k;
    final float[] scores;
    final int[] ranks;
    final float[] mask;

    Harness(int b, int k, float[] scores, int[] ranks, float[] mask) {
        this.b = b;
        this.k = k;
        this.scores = scores;
        this.ranks = ranks;
        this.mask = mask;
    }

    /**
     * Six lists of four: distinct ranks; a tie; padding holding NaN and a rank of -7; one real completion; all
     * padding; all tied. Scores random in [-scale, scale] (NaN at padding when {@code nanPadding}).
     */
    static Harness mixed(long seed, double scale, boolean nanPadding) {
        float pad = nanPadding ? Float.NaN : 1234f;
        float[] s = random(seed, 24, scale);
        int[] r = {2, 0, 3, 1, //
                0, 1, 1, 2, //
                1, 0, -7, 2, //
                5, 0, 3, 3, //
                0, 1, 2, 3, //
                4, 4, 4, 9};
        float[] m = {1, 1, 1, 1, //
                1, 1, 1, 1, //
                1, 1, 0, 1, //
                0, 1, 0, 0, //
                0, 0, 0, 0, //
                1, 1, 1, 0};
        for (int i = 0; i < m.length; i++) {
            if (m[i] == 0) {
                s[i] = pad;
            }
        }
        return new Harness(6, 4, s, r, m);
    }

    Run run(ListwiseLoss loss, Settings settings) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> s = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TInt32> r = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TFloat32> m = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            LossResult result = settings == null ? loss.compute(tf, s, r, m) : loss.compute(tf, s, r, m, settings);
            assertTrue(result.metrics().containsKey("accuracy") && result.metrics().containsKey("margin"),
                    "metrics: " + result.metrics().keySet());
            Output<?>[] grad = g.addGradients(result.loss().asOutput(), new Output<?>[] {s.asOutput()});
            try (Session session = new Session(g);
                    TFloat32 st = TFloat32.tensorOf(Shape.of(b, k), DataBuffers.of(scores, true, false));
                    TInt32 rt = TInt32.tensorOf(Shape.of(b, k), DataBuffers.of(ranks, true, false));
                    TFloat32 mt = TFloat32.tensorOf(Shape.of(b, k), DataBuffers.of(mask, true, false));
                    Result out = session.runner().feed(s, st).feed(r, rt).feed(m, mt).fetch(result.loss())
                            .fetch(result.metrics().get("accuracy")).fetch(result.metrics().get("margin"))
                            .fetch(grad[0]).run()) {
                Run run = new Run();
                run.loss = ((TFloat32) out.get(0)).getFloat();
                run.accuracy = ((TFloat32) out.get(1)).getFloat();
                run.margin = ((TFloat32) out.get(2)).getFloat();
                run.grad = new float[b * k];
                ((TFloat32) out.get(3)).copyTo(DataBuffers.of(run.grad, false, false));
                return run;
            }
        }
    }

    double reference(Reference ref) {
        return ref.loss(toDouble(scores), ranks, mask);
    }

    /** The real completions of list {@code row}, by index. */
    int[] real(int row) {
        return java.util.stream.IntStream.range(0, k).filter(i -> mask[row * k + i] > 0).toArray();
    }

    /** Accuracy and margin over the ordered pairs of the batch, by loops: {share with s_i > s_j, mean s_i - s_j}. */
    double[] pairMetrics() {
        double pairs = 0;
        double correct = 0;
        double diff = 0;
        for (int row = 0; row < b; row++) {
            for (int i : real(row)) {
                for (int j : real(row)) {
                    if (ranks[row * k + i] < ranks[row * k + j]) {
                        pairs++;
                        double d = (double) scores[row * k + i] - scores[row * k + j];
                        correct += d > 0 ? 1 : 0;
                        diff += d;
                    }
                }
            }
        }
        return new double[] {correct / Math.max(pairs, 1), diff / Math.max(pairs, 1)};
    }

    /**
     * Norm-wise relative error of the graph's gradient against central differences (step 1e-5) of the reference in
     * double, over the real completions; the gradient at padding must be exactly 0.
     */
    double gradientError(Reference ref, Run run) {
        double[] x = toDouble(scores);
        double num = 0;
        double den = 0;
        double eps = 1e-5;
        for (int i = 0; i < x.length; i++) {
            if (mask[i] == 0) {
                assertTrue(run.grad[i] == 0f, "gradient at padding [" + i + "] = " + run.grad[i]);
                continue;
            }
            double keep = x[i];
            x[i] = keep + eps;
            double plus = ref.loss(x, ranks, mask);
            x[i] = keep - eps;
            double minus = ref.loss(x, ranks, mask);
            x[i] = keep;
            double fd = (plus - minus) / (2 * eps);
            num += (run.grad[i] - fd) * (run.grad[i] - fd);
            den += fd * fd;
        }
        assertTrue(den > 0, "the reference gradient is zero: nothing checked");
        return Math.sqrt(num / den);
    }

    /** log sum_i exp(x_i) in double, the maximum subtracted. */
    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /** -log sigmoid(x) in double: max(-x, 0) + log(1 + exp(-|x|)). */
    static double negLogSigmoid(double x) {
        return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    static float[] random(long seed, int n, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * r.nextDouble(-1, 1));
        }
        return x;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    static void assertRel(double expected, double actual, double tol, String what) {
        double err = Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    /** The loss section of a stage, as the pipeline hands it to a loss (without {@code name}). */
    static Settings lossSection(Map<String, ?> values) {
        return Settings.of("pipe.yaml", Map.of("stages", List.of(Map.of("loss", values)))).sections("stages").get(0)
                .section("loss");
    }

    /** The DS descriptor bnd wrote for {@code type}. */
    static String descriptor(Class<?> type) throws IOException {
        try (InputStream in = type.getClassLoader().getResourceAsStream("OSGI-INF/" + type.getName() + ".xml")) {
            assertTrue(in != null, "no DS descriptor generated for " + type.getName());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The descriptor registers {@link ListwiseLoss} with {@code align4j.name = name} in the listwise family. */
    static void assertRegistered(Class<?> type, String name) throws IOException {
        String xml = descriptor(type);
        assertTrue(xml.contains("name=\"align4j.name\"") && xml.contains("value=\"" + name + "\""), xml);
        assertTrue(xml.contains("name=\"align4j.family\"") && xml.contains("value=\"listwise\""), xml);
        assertTrue(xml.contains("interface=\"" + ListwiseLoss.class.getName() + "\""), xml);
    }
}
