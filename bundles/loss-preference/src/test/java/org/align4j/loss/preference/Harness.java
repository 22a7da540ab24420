package org.align4j.loss.preference;

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

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PreferenceBatch;
import org.align4j.api.loss.PreferenceLoss;
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
 * Runs a {@link PreferenceLoss} on fed values (every input a placeholder), fetching its loss, its metrics and the
 * gradient of the loss with respect to {@code pc} and {@code pr}; and the double-precision loops the tests compare
 * them with. Nothing here calls the code under test to make a reference.
 */
final class Harness {

    /** TRL's metric names, as the losses must publish them. */
    static final List<String> METRICS = List.of("rewards/chosen", "rewards/rejected", "rewards/accuracies",
            "rewards/margins", "logps/chosen", "logps/rejected");

    private Harness() {
    }

    /** One batch: summed log-probs {@code [B]}, optional token counts {@code [B]}, and beta. */
    static final class Batch {
        final float[] pc;
        final float[] pr;
        final float[] rc;
        final float[] rr;
        final float beta;
        float[] nc;
        float[] nr;

        Batch(float[] pc, float[] pr, float[] rc, float[] rr, float beta) {
            this.pc = pc;
            this.pr = pr;
            this.rc = rc;
            this.rr = rr;
            this.beta = beta;
        }

        Batch tokens(float[] chosen, float[] rejected) {
            nc = chosen;
            nr = rejected;
            return this;
        }

        int size() {
            return pc.length;
        }
    }

    /** What the graph gave. */
    static final class Run {
        float loss;
        final Map<String, Float> metrics = new LinkedHashMap<>();
        float[] gradPc;
        float[] gradPr;
    }

    /** The loss of a batch as a function of (pc, pr), in double; the other inputs are fixed by the closure. */
    interface Reference {
        double loss(double[] pc, double[] pr);
    }

    /** Builds with {@code compute(tf, batch, settings)}, or {@code compute(tf, batch)} when settings is null. */
    static Run run(PreferenceLoss loss, Batch b, Settings settings) {
        int n = b.size();
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> pc = vector(tf);
            Placeholder<TFloat32> pr = vector(tf);
            Placeholder<TFloat32> rc = vector(tf);
            Placeholder<TFloat32> rr = vector(tf);
            Placeholder<TFloat32> nc = b.nc == null ? null : vector(tf);
            Placeholder<TFloat32> nr = b.nr == null ? null : vector(tf);
            PreferenceBatch batch = new PreferenceBatch(pc, pr, rc, rr, b.beta, nc, nr);
            LossResult result = settings == null ? loss.compute(tf, batch) : loss.compute(tf, batch, settings);
            assertEquals(Set.copyOf(METRICS), result.metrics().keySet(), "the metrics, by TRL's names");
            Output<?>[] grad = g.addGradients(result.loss().asOutput(),
                    new Output<?>[] {pc.asOutput(), pr.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 pct = tensor(b.pc);
                    TFloat32 prt = tensor(b.pr);
                    TFloat32 rct = tensor(b.rc);
                    TFloat32 rrt = tensor(b.rr);
                    TFloat32 nct = tensor(b.nc == null ? new float[n] : b.nc);
                    TFloat32 nrt = tensor(b.nr == null ? new float[n] : b.nr)) {
                Session.Runner runner = s.runner().feed(pc, pct).feed(pr, prt).feed(rc, rct).feed(rr, rrt);
                if (nc != null) {
                    runner.feed(nc, nct).feed(nr, nrt);
                }
                runner.fetch(result.loss());
                for (String name : METRICS) {
                    Operand<TFloat32> metric = result.metrics().get(name);
                    runner.fetch(metric);
                }
                runner.fetch(grad[0]).fetch(grad[1]);
                try (Result out = runner.run()) {
                    Run run = new Run();
                    run.loss = ((TFloat32) out.get(0)).getFloat();
                    for (int i = 0; i < METRICS.size(); i++) {
                        run.metrics.put(METRICS.get(i), ((TFloat32) out.get(1 + i)).getFloat());
                    }
                    run.gradPc = new float[n];
                    run.gradPr = new float[n];
                    ((TFloat32) out.get(1 + METRICS.size())).copyTo(DataBuffers.of(run.gradPc, false, false));
                    ((TFloat32) out.get(2 + METRICS.size())).copyTo(DataBuffers.of(run.gradPr, false, false));
                    return run;
                }
            }
        }
    }

    private static Placeholder<TFloat32> vector(Ops tf) {
        return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
    }

    private static TFloat32 tensor(float[] v) {
        return TFloat32.tensorOf(Shape.of(v.length), DataBuffers.of(v, true, false));
    }

    /** {@code -log sigmoid(x)} in double: {@code max(-x, 0) + log(1 + exp(-|x|))}. */
    static double negLogSigmoid(double x) {
        return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** {@code (pc - pr) - (rc - rr)} of pair {@code i}, in double. */
    static double logit(double[] pc, double[] pr, Batch b, int i) {
        return (pc[i] - pr[i]) - ((double) b.rc[i] - (double) b.rr[i]);
    }

    /** TRL's metrics by loops in double. */
    static Map<String, Double> referenceMetrics(Batch b) {
        double chosen = 0;
        double rejected = 0;
        double correct = 0;
        double margins = 0;
        double logpsChosen = 0;
        double logpsRejected = 0;
        for (int i = 0; i < b.size(); i++) {
            double c = (double) b.beta * ((double) b.pc[i] - b.rc[i]);
            double r = (double) b.beta * ((double) b.pr[i] - b.rr[i]);
            chosen += c;
            rejected += r;
            correct += c > r ? 1 : 0;
            margins += c - r;
            logpsChosen += b.pc[i];
            logpsRejected += b.pr[i];
        }
        int n = b.size();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("rewards/chosen", chosen / n);
        m.put("rewards/rejected", rejected / n);
        m.put("rewards/accuracies", correct / n);
        m.put("rewards/margins", margins / n);
        m.put("logps/chosen", logpsChosen / n);
        m.put("logps/rejected", logpsRejected / n);
        return m;
    }

    /** {@code |actual - expected| / |expected|}; 0 when both are 0. */
    static double relErr(double expected, double actual) {
        if (expected == actual) {
            return 0;
        }
        return Math.abs(actual - expected) / Math.abs(expected);
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

        void loss(double expected, float actual, double tol, String what) {
            assertTrue(Float.isFinite(actual), what + ": loss is " + actual);
            double e = relErr(expected, actual);
            loss = Math.max(loss, e);
            assertTrue(e <= tol, what + ": loss expected " + expected + ", got " + actual + " (rel err " + e + ")");
        }

        /** Every metric of {@code run} against the loops of {@link #referenceMetrics}. */
        void metrics(Batch b, Run run, double tol, String what) {
            Map<String, Double> expected = referenceMetrics(b);
            for (String name : METRICS) {
                double x = expected.get(name);
                float actual = run.metrics.get(name);
                double e = relErr(x, actual);
                metrics = Math.max(metrics, e);
                assertTrue(e <= tol, what + ": " + name + " expected " + x + ", got " + actual + " (rel err " + e
                        + ")");
            }
        }

        /**
         * Norm-wise relative error of the graph's d loss / d pc and d loss / d pr against central differences (step
         * 1e-5) of {@code reference}, in double.
         */
        void gradient(Batch b, Run run, Reference reference, double tol, String what) {
            double[] pc = toDouble(b.pc);
            double[] pr = toDouble(b.pr);
            double num = 0;
            double den = 0;
            double h = 1e-5;
            for (double[] x : new double[][] {pc, pr}) {
                float[] graph = x == pc ? run.gradPc : run.gradPr;
                for (int i = 0; i < x.length; i++) {
                    assertTrue(Float.isFinite(graph[i]), what + ": gradient " + i + " is " + graph[i]);
                    double keep = x[i];
                    x[i] = keep + h;
                    double plus = reference.loss(pc, pr);
                    x[i] = keep - h;
                    double minus = reference.loss(pc, pr);
                    x[i] = keep;
                    double fd = (plus - minus) / (2 * h);
                    num += (graph[i] - fd) * (graph[i] - fd);
                    den += fd * fd;
                }
            }
            assertTrue(den > 0, what + ": the reference gradient is zero: nothing checked");
            double e = Math.sqrt(num / den);
            gradient = Math.max(gradient, e);
            assertTrue(e <= tol, what + ": ||grad - fd|| / ||fd|| = " + e);
        }

        /**
         * {@code loss} on {@code b} (built with {@code settings}, or without when null) against {@code reference}:
         * the loss, TRL's metrics (on the summed log-probs, whatever the loss normalises) and the gradient, each to a
         * relative 1e-5.
         */
        void check(PreferenceLoss loss, Batch b, Settings settings, Reference reference, String what) {
            Run run = run(loss, b, settings);
            loss(reference.loss(toDouble(b.pc), toDouble(b.pr)), run.loss, 1e-5, what);
            metrics(b, run, 1e-5, what);
            gradient(b, run, reference, 1e-5, what);
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

    static float[] random(long seed, int n, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(lo, hi);
        }
        return x;
    }

    /** A batch of summed log-probs as a model gives them: negative, tens to hundreds. */
    static Batch randomBatch(long seed, int n, float beta) {
        return new Batch(random(seed, n, -120, -5), random(seed + 1, n, -120, -5), random(seed + 2, n, -120, -5),
                random(seed + 3, n, -120, -5), beta);
    }

    /**
     * Pairs with {@code (pc - pr) - (rc - rr)} of +1000, -1000, 0 (a tie: the chosen and rejected rewards are equal),
     * 0.75 and -2.5, from log-probs of about -1000 and -2000.
     */
    static Batch extremeBatch(float beta) {
        float[] pc = {-1000, -2000, -30.5f, -12, -40};
        float[] pr = {-2000, -1000, -20.5f, -13, -36};
        float[] rc = {-1500, -1500, -40, -11, -30};
        float[] rr = {-1500, -1500, -30, -11.25f, -28.5f};
        return new Batch(pc, pr, rc, rr, beta);
    }

    /** The loss section of a stage, as the pipeline hands it to a loss (without {@code name}). */
    static Settings lossSection(Map<String, ?> values) {
        return Settings.of("pipe.yaml", Map.of("stages", List.of(Map.of("loss", values)))).sections("stages").get(0)
                .section("loss");
    }

    /** bnd's DS descriptor of {@code type}: registered as a PreferenceLoss named {@code name} in the family. */
    static void assertRegistered(Class<?> type, String name) throws IOException {
        String xml;
        try (InputStream in = type.getClassLoader().getResourceAsStream("OSGI-INF/" + type.getName() + ".xml")) {
            assertTrue(in != null, "no DS descriptor generated for " + type.getName());
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(xml.contains("<property name=\"align4j.name\" type=\"String\" value=\"" + name + "\"/>"), xml);
        assertTrue(xml.contains("<property name=\"align4j.family\" type=\"String\" value=\"preference\"/>"), xml);
        assertTrue(xml.contains("interface=\"" + PreferenceLoss.class.getName() + "\""), xml);
    }
}
