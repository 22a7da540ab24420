package org.align4j.loss.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PolicyBatch;
import org.align4j.api.loss.PolicyLoss;
import org.align4j.api.pipeline.Settings;
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
 * Runs a {@link PolicyLoss} on fed {@code [B, T]} values (every input a placeholder), fetching its loss, its metrics
 * and the gradient of the loss with respect to the log-probs and the values; builds batches whose tokens fall on chosen
 * sides of the clip ranges; and holds the double-precision loops the tests compare with. Nothing here calls the code
 * under test to make a reference.
 */
final class Harness {

    /** TRL's metric names, as the loss must publish them. */
    static final List<String> METRICS = List.of("policy/clipfrac", "policy/approxkl", "loss/policy", "loss/value",
            "val/clipfrac", "val/ratio", "val/vpred");

    /** The inputs in {@link Batch#inputs()} order, and the mask after them. */
    static final int LOG_PROBS = 0;
    static final int OLD_LOG_PROBS = 1;
    static final int ADVANTAGES = 2;
    static final int VALUES = 3;
    static final int OLD_VALUES = 4;
    static final int RETURNS = 5;
    static final int MASK = 6;

    private Harness() {
    }

    /** One batch, each input {@code [B, T]} flattened row by row. */
    static final class Batch {
        final int rows;
        final int cols;
        final float[] logProbs;
        final float[] oldLogProbs;
        final float[] advantages;
        final float[] values;
        final float[] oldValues;
        final float[] returns;
        final float[] mask;

        Batch(int rows, int cols, float[] mask) {
            this.rows = rows;
            this.cols = cols;
            int n = rows * cols;
            assertEquals(n, mask.length, "mask size");
            this.mask = mask.clone();
            logProbs = new float[n];
            oldLogProbs = new float[n];
            advantages = new float[n];
            values = new float[n];
            oldValues = new float[n];
            returns = new float[n];
        }

        Batch copy() {
            Batch c = new Batch(rows, cols, mask);
            System.arraycopy(logProbs, 0, c.logProbs, 0, size());
            System.arraycopy(oldLogProbs, 0, c.oldLogProbs, 0, size());
            System.arraycopy(advantages, 0, c.advantages, 0, size());
            System.arraycopy(values, 0, c.values, 0, size());
            System.arraycopy(oldValues, 0, c.oldValues, 0, size());
            System.arraycopy(returns, 0, c.returns, 0, size());
            return c;
        }

        int size() {
            return rows * cols;
        }

        float[][] inputs() {
            return new float[][] {logProbs, oldLogProbs, advantages, values, oldValues, returns};
        }
    }

    /** What the graph gave. */
    static final class Run {
        float loss;
        final Map<String, Float> metrics = new LinkedHashMap<>();
        /** d loss / d logProbs, {@code [B * T]}. */
        float[] gradLogProbs;
        /** d loss / d values, {@code [B * T]}. */
        float[] gradValues;
    }

    /** The options of the loss, as the reference takes them. */
    record Options(double cliprange, double cliprangeValue, double vfCoef) {
        static final Options DEFAULTS = new Options(0.2, 0.2, 0.1);
    }

    /** Builds the loss with {@code settings} on placeholders, feeds {@code b} and fetches everything. */
    static Run run(PolicyLoss loss, Batch b, Settings settings) {
        return run(loss, b, settings, false);
    }

    /**
     * As {@link #run(PolicyLoss, Batch, Settings)}; when {@code entangled}, each constant input is built as its fed
     * value plus {@code (x - x')}, where {@code x} is the log-probs placeholder (for the old log-probs and the
     * advantages) or the values placeholder (for the old values and the returns) and {@code x'} a second placeholder
     * fed the same numbers: the same forward values, but any gradient the loss let into a constant input would add
     * to the gradient with respect to the log-probs or the values.
     */
    static Run run(PolicyLoss loss, Batch b, Settings settings, boolean entangled) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32>[] in = new Placeholder[9];
            for (int i = 0; i < in.length; i++) {
                in[i] = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            }
            Operand<TFloat32> lpZero = tf.math.sub(in[LOG_PROBS], in[7]); // [B, T] 0, with a gradient path
            Operand<TFloat32> vZero = tf.math.sub(in[VALUES], in[8]); // [B, T] 0, with a gradient path
            PolicyBatch batch = new PolicyBatch(in[LOG_PROBS],
                    entangled ? tf.math.add(in[OLD_LOG_PROBS], lpZero) : in[OLD_LOG_PROBS],
                    entangled ? tf.math.add(in[ADVANTAGES], lpZero) : in[ADVANTAGES], in[VALUES],
                    entangled ? tf.math.add(in[OLD_VALUES], vZero) : in[OLD_VALUES],
                    entangled ? tf.math.add(in[RETURNS], vZero) : in[RETURNS], in[MASK]);
            LossResult result = loss.compute(tf, batch, settings);
            assertEquals(Set.copyOf(METRICS), result.metrics().keySet(), "the metrics, by TRL's names");
            Output<?>[] grad = g.addGradients(result.loss().asOutput(),
                    new Output<?>[] {in[LOG_PROBS].asOutput(), in[VALUES].asOutput()});
            float[][] fed = b.inputs();
            float[][] feeds = {fed[0], fed[1], fed[2], fed[3], fed[4], fed[5], b.mask, b.logProbs, b.values};
            TFloat32[] tensors = new TFloat32[in.length];
            try (Session s = new Session(g)) {
                Session.Runner runner = s.runner();
                for (int i = 0; i < in.length; i++) {
                    tensors[i] = tensor(b, feeds[i]);
                    runner.feed(in[i], tensors[i]);
                }
                runner.fetch(result.loss());
                for (String name : METRICS) {
                    runner.fetch(result.metrics().get(name));
                }
                runner.fetch(grad[0]).fetch(grad[1]);
                try (Result out = runner.run()) {
                    Run run = new Run();
                    run.loss = ((TFloat32) out.get(0)).getFloat();
                    for (int i = 0; i < METRICS.size(); i++) {
                        run.metrics.put(METRICS.get(i), ((TFloat32) out.get(1 + i)).getFloat());
                    }
                    run.gradLogProbs = new float[b.size()];
                    run.gradValues = new float[b.size()];
                    ((TFloat32) out.get(1 + METRICS.size())).copyTo(DataBuffers.of(run.gradLogProbs, false, false));
                    ((TFloat32) out.get(2 + METRICS.size())).copyTo(DataBuffers.of(run.gradValues, false, false));
                    return run;
                }
            } finally {
                for (TFloat32 t : tensors) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
        }
    }

    private static TFloat32 tensor(Batch b, float[] v) {
        return TFloat32.tensorOf(Shape.of(b.rows, b.cols), DataBuffers.of(v, true, false));
    }

    /**
     * The loss ({@code "loss"}) and the metrics by plain loops in double over the real tokens ({@code mask != 0}),
     * for the given {@code logProbs} and {@code values} (the other inputs from {@code b}).
     */
    static Map<String, Double> reference(Batch b, Options o, double[] logProbs, double[] values) {
        double count = 0;
        double pg = 0;
        double vf = 0;
        double pgClipped = 0;
        double kl = 0;
        double vfClipped = 0;
        double ratios = 0;
        double vpred = 0;
        for (int i = 0; i < b.size(); i++) {
            double m = b.mask[i];
            if (m == 0) {
                continue;
            }
            double logRatio = logProbs[i] - b.oldLogProbs[i];
            double ratio = Math.exp(logRatio);
            double a = b.advantages[i];
            double clippedRatio = Math.min(Math.max(ratio, 1 - o.cliprange()), 1 + o.cliprange());
            double pg1 = -a * ratio;
            double pg2 = -a * clippedRatio;
            pg += m * Math.max(pg1, pg2);
            pgClipped += m * (pg2 > pg1 ? 1 : 0);
            kl += m * logRatio * logRatio;
            ratios += m * ratio;
            double old = b.oldValues[i];
            double vClipped = old + Math.min(Math.max(values[i] - old, -o.cliprangeValue()), o.cliprangeValue());
            double vf1 = (values[i] - b.returns[i]) * (values[i] - b.returns[i]);
            double vf2 = (vClipped - b.returns[i]) * (vClipped - b.returns[i]);
            vf += m * Math.max(vf1, vf2);
            vfClipped += m * (vf2 > vf1 ? 1 : 0);
            vpred += m * values[i];
            count += m;
        }
        double n = Math.max(count, 1);
        Map<String, Double> r = new LinkedHashMap<>();
        r.put("loss", pg / n + o.vfCoef() * 0.5 * vf / n);
        r.put("policy/clipfrac", pgClipped / n);
        r.put("policy/approxkl", 0.5 * kl / n);
        r.put("loss/policy", pg / n);
        r.put("loss/value", 0.5 * vf / n);
        r.put("val/clipfrac", vfClipped / n);
        r.put("val/ratio", ratios / n);
        r.put("val/vpred", vpred / n);
        return r;
    }

    static Map<String, Double> reference(Batch b, Options o) {
        return reference(b, o, toDouble(b.logProbs), toDouble(b.values));
    }

    /** Within 1e-5 relative, or 1e-6 absolute (for values near 0). */
    static boolean close(double expected, double actual) {
        double d = Math.abs(actual - expected);
        return d <= 1e-5 * Math.abs(expected) || d <= 1e-6;
    }

    /** Tracks the largest errors a test class saw, for its summary line. */
    static final class MaxErrors {
        private final String name;
        double loss;
        double metrics;
        double gradient;

        MaxErrors(String name) {
            this.name = name;
        }

        void loss(double expected, float actual, String what) {
            assertTrue(Float.isFinite(actual), what + ": loss is " + actual);
            loss = Math.max(loss, Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-30));
            assertTrue(close(expected, actual), what + ": loss expected " + expected + ", got " + actual);
        }

        void metrics(Map<String, Double> expected, Run run, String what) {
            for (String name : METRICS) {
                double x = expected.get(name);
                float actual = run.metrics.get(name);
                assertTrue(Float.isFinite(actual), what + ": " + name + " is " + actual);
                if (x != 0) {
                    metrics = Math.max(metrics, Math.abs(actual - x) / Math.abs(x));
                }
                assertTrue(close(x, actual), what + ": " + name + " expected " + x + ", got " + actual);
            }
        }

        /**
         * The graph's d loss / d logProbs and d loss / d values against central differences (step 1e-5) of the
         * reference loop, norm-wise relative to 1e-5; exactly 0 on padding.
         */
        void gradient(Batch b, Options o, Run run, String what) {
            double[] lp = toDouble(b.logProbs);
            double[] v = toDouble(b.values);
            double num = 0;
            double den = 0;
            double h = 1e-5;
            for (int which : new int[] {LOG_PROBS, VALUES}) {
                double[] x = which == LOG_PROBS ? lp : v;
                float[] graph = which == LOG_PROBS ? run.gradLogProbs : run.gradValues;
                for (int i = 0; i < x.length; i++) {
                    assertTrue(Float.isFinite(graph[i]), what + ": gradient " + which + "/" + i + " is " + graph[i]);
                    if (b.mask[i] == 0) {
                        assertEquals(0f, graph[i], 0f, what + ": gradient " + which + " at padding position " + i);
                    }
                    double keep = x[i];
                    x[i] = keep + h;
                    double plus = reference(b, o, lp, v).get("loss");
                    x[i] = keep - h;
                    double minus = reference(b, o, lp, v).get("loss");
                    x[i] = keep;
                    double fd = (plus - minus) / (2 * h);
                    num += (graph[i] - fd) * (graph[i] - fd);
                    den += fd * fd;
                }
            }
            assertTrue(den > 0, what + ": the reference gradient is zero: nothing checked");
            double e = Math.sqrt(num / den);
            gradient = Math.max(gradient, e);
            assertTrue(e <= 1e-5, what + ": ||grad - fd|| / ||fd|| = " + e);
        }

        /**
         * Loss, metrics and gradient of {@code loss} on {@code b} with {@code settings}, against the loops for
         * {@code o}.
         */
        Run check(PolicyLoss loss, Batch b, Settings settings, Options o, String what) {
            return check(loss, b, settings, o, false, what);
        }

        /**
         * As above, with the constant inputs {@linkplain Harness#run(PolicyLoss, Batch, Settings, boolean)
         * entangled}.
         */
        Run check(PolicyLoss loss, Batch b, Settings settings, Options o, boolean entangled, String what) {
            Run run = run(loss, b, settings, entangled);
            Map<String, Double> expected = reference(b, o);
            loss(expected.get("loss"), run.loss, what);
            metrics(expected, run, what);
            gradient(b, o, run, what);
            return run;
        }

        void print() {
            System.out.printf("%s: max rel err loss %.2e, metrics %.2e, gradient (norm-wise vs central differences)"
                    + " %.2e%n", name, loss, metrics, gradient);
        }
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** {@code rows} by {@code cols}, row {@code r} real in its first {@code real[r]} tokens and padding after. */
    static float[] mask(int cols, int... real) {
        float[] m = new float[real.length * cols];
        for (int r = 0; r < real.length; r++) {
            for (int t = 0; t < real[r]; t++) {
                m[r * cols + t] = 1;
            }
        }
        return m;
    }

    /** A multiple of 1/1024: values and old values whose difference float computes exactly. */
    private static float quantised(double x) {
        return (float) (Math.rint(x * 1024) / 1024);
    }

    /**
     * A batch whose k-th real token has a probability ratio below, inside and above the clip range of
     * {@code clipranges[0]} for k % 3 = 0, 1, 2, an advantage of sign + for k / 3 even and - for odd, and a value
     * inside the value clip range of {@code cliprangeValues[0]} (case 0), outside it with the clipped loss larger
     * (case 1) or with the unclipped one larger (case 2), case {@code (k + k / 3) % 3}. Every real token stays 0.01
     * (log-ratio, value step) away from the clip boundaries of all {@code clipranges} and {@code cliprangeValues},
     * and its two value losses 1e-3 apart wherever they differ, so no comparison or finite difference sits on a kink.
     * Padding holds random finite numbers.
     */
    static Batch batch(long seed, int rows, int cols, float[] mask, double[] clipranges, double[] cliprangeValues) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Batch b = new Batch(rows, cols, mask);
        double eps = clipranges[0];
        double epsV = cliprangeValues[0];
        int k = 0;
        for (int i = 0; i < b.size(); i++) {
            if (mask[i] == 0) {
                b.logProbs[i] = (float) rnd.nextDouble(-8, 0);
                b.oldLogProbs[i] = (float) rnd.nextDouble(-8, 0);
                b.advantages[i] = (float) rnd.nextDouble(-3, 3);
                b.values[i] = (float) rnd.nextDouble(-3, 3);
                b.oldValues[i] = (float) rnd.nextDouble(-3, 3);
                b.returns[i] = (float) rnd.nextDouble(-3, 3);
                continue;
            }
            int region = k % 3;
            double sign = (k / 3) % 2 == 0 ? 1 : -1;
            int valueCase = (k + k / 3) % 3;
            k++;
            double lo = Math.log(1 - eps);
            double hi = Math.log(1 + eps);
            do {
                double d = region == 0 ? rnd.nextDouble(lo - 0.6, lo - 0.02)
                        : region == 1 ? rnd.nextDouble(lo + 0.02, hi - 0.02) : rnd.nextDouble(hi + 0.02, hi + 0.6);
                b.logProbs[i] = (float) rnd.nextDouble(-3, -0.05);
                b.oldLogProbs[i] = (float) (b.logProbs[i] - d);
            } while (!clearOfRatioKinks((double) b.logProbs[i] - b.oldLogProbs[i], clipranges));
            b.advantages[i] = (float) (sign * rnd.nextDouble(0.1, 2));
            do {
                b.oldValues[i] = quantised(rnd.nextDouble(-1, 1));
                if (valueCase == 0) {
                    b.values[i] = quantised(b.oldValues[i] + rnd.nextDouble(-epsV + 0.02, epsV - 0.02));
                    b.returns[i] = (float) rnd.nextDouble(-2, 2);
                } else {
                    double s = rnd.nextBoolean() ? 1 : -1;
                    b.values[i] = quantised(b.oldValues[i] + s * rnd.nextDouble(epsV + 0.05, epsV + 0.6));
                    double mid = (b.values[i] + b.oldValues[i] + s * epsV) / 2;
                    double away = rnd.nextDouble(0.05, 1);
                    b.returns[i] = (float) (valueCase == 1 ? mid + s * away : mid - s * away);
                }
            } while (!clearOfValueKinks(b.values[i], b.oldValues[i], b.returns[i], cliprangeValues));
        }
        return b;
    }

    private static boolean clearOfRatioKinks(double logRatio, double[] clipranges) {
        for (double e : clipranges) {
            if (Math.abs(logRatio - Math.log(1 - e)) < 0.01 || Math.abs(logRatio - Math.log(1 + e)) < 0.01) {
                return false;
            }
        }
        return true;
    }

    private static boolean clearOfValueKinks(double v, double old, double ret, double[] cliprangeValues) {
        double step = v - old;
        for (double e : cliprangeValues) {
            if (Math.abs(Math.abs(step) - e) < 0.01) {
                return false;
            }
            if (Math.abs(step) > e) {
                double clipped = old + Math.signum(step) * e;
                if (Math.abs((v - ret) * (v - ret) - (clipped - ret) * (clipped - ret)) < 1e-3) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Which cases the real tokens of {@code b} cover under {@code o}, by loops in double: {@code ratio<lo,A+},
     * {@code ratio<lo,A-}, {@code inside,A+}, ..., {@code value inside}, {@code value clipped, clipped larger},
     * {@code value clipped, unclipped larger}.
     */
    static Set<String> cases(Batch b, Options o) {
        Set<String> seen = new TreeSet<>();
        for (int i = 0; i < b.size(); i++) {
            if (b.mask[i] == 0) {
                continue;
            }
            double ratio = Math.exp((double) b.logProbs[i] - b.oldLogProbs[i]);
            String where = ratio < 1 - o.cliprange() ? "ratio<lo" : ratio > 1 + o.cliprange() ? "ratio>hi" : "inside";
            seen.add(where + (b.advantages[i] > 0 ? ",A+" : ",A-"));
            double step = (double) b.values[i] - b.oldValues[i];
            if (Math.abs(step) <= o.cliprangeValue()) {
                seen.add("value inside");
            } else {
                double clipped = b.oldValues[i] + Math.signum(step) * o.cliprangeValue();
                double vf1 = Math.pow(b.values[i] - b.returns[i], 2);
                double vf2 = Math.pow(clipped - b.returns[i], 2);
                seen.add(vf2 > vf1 ? "value clipped, clipped larger" : "value clipped, unclipped larger");
            }
        }
        return seen;
    }

    static final Set<String> ALL_CASES = Set.of("ratio<lo,A+", "ratio<lo,A-", "inside,A+", "inside,A-", "ratio>hi,A+",
            "ratio>hi,A-", "value inside", "value clipped, clipped larger", "value clipped, unclipped larger");

    /** The loss section of a stage, as the pipeline hands it to a loss (without {@code name}). */
    static Settings lossSection(Map<String, ?> values) {
        return Settings.of("pipe.yaml", Map.of("stages", List.of(Map.of("loss", values)))).sections("stages").get(0)
                .section("loss");
    }

    /** bnd's DS descriptor of {@code type}: registered as a PolicyLoss named {@code name} in the policy family. */
    static void assertRegistered(Class<?> type, String name) throws IOException {
        String xml;
        try (InputStream in = type.getClassLoader().getResourceAsStream("OSGI-INF/" + type.getName() + ".xml")) {
            assertTrue(in != null, "no DS descriptor generated for " + type.getName());
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(xml.contains("<property name=\"align4j.name\" type=\"String\" value=\"" + name + "\"/>"), xml);
        assertTrue(xml.contains("<property name=\"align4j.family\" type=\"String\" value=\"policy\"/>"), xml);
        assertTrue(xml.contains("interface=\"" + PolicyLoss.class.getName() + "\""), xml);
    }
}
