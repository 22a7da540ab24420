package org.align4j.loss.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.ProcessLoss;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;
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
import org.tensorflow.types.TInt32;

/**
 * The four process losses against double-precision loops written here (per-step terms, then the masked mean and the
 * metrics), their gradients against central finite differences of those loops, and their settings checks.
 */
class ProcessLossesTest {

    static final int B = 4;
    static final int S = 5;
    static final String[] METRICS = {StepReduction.STEP_ACCURACY, StepReduction.NUM_STEPS,
        StepReduction.INCORRECT_PRECISION, StepReduction.INCORRECT_RECALL};

    /** Loss, metrics and d loss / d stepLogits from the graph. */
    static final class Run {
        float loss;
        Map<String, Float> metrics = new LinkedHashMap<>();
        float[] grad;
    }

    /** A batch: logits {@code [B, S, C]}, labels and mask {@code [B, S]}. */
    record Batch(int c, float[] logits, int[] labels, float[] mask) {
        Batch withLogits(float[] l) {
            return new Batch(c, l, labels, mask);
        }

        Batch withLabels(int[] l) {
            return new Batch(c, logits, l, mask);
        }

        Batch withMask(float[] m) {
            return new Batch(c, logits, labels, m);
        }
    }

    static Run run(ProcessLoss lossFn, Settings settings, Batch batch, boolean staticShapes) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> l = tf.placeholder(TFloat32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, S, batch.c()) : Shape.of(-1, -1, -1)));
            Placeholder<TInt32> y = tf.placeholder(TInt32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, S) : Shape.of(-1, -1)));
            Placeholder<TFloat32> m = tf.placeholder(TFloat32.class,
                    Placeholder.shape(staticShapes ? Shape.of(B, S) : Shape.of(-1, -1)));
            LossResult result = settings == null ? lossFn.compute(tf, l, y, m)
                    : lossFn.compute(tf, l, y, m, settings);
            Output<?>[] grad = g.addGradients(result.loss().asOutput(), new Output<?>[] {l.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 lt = TFloat32.tensorOf(Shape.of(B, S, batch.c()), DataBuffers.of(batch.logits(), true,
                            false));
                    TInt32 yt = TInt32.tensorOf(Shape.of(B, S), DataBuffers.of(batch.labels(), true, false));
                    TFloat32 mt = TFloat32.tensorOf(Shape.of(B, S), DataBuffers.of(batch.mask(), true, false))) {
                Session.Runner runner = s.runner().feed(l, lt).feed(y, yt).feed(m, mt).fetch(result.loss());
                for (String name : METRICS) {
                    Operand<TFloat32> metric = result.metrics().get(name);
                    assertTrue(metric != null, "metric " + name + " missing; has " + result.metrics().keySet());
                    runner.fetch(metric);
                }
                try (Result r = runner.fetch(grad[0]).run()) {
                    Run out = new Run();
                    out.loss = ((TFloat32) r.get(0)).getFloat();
                    for (int i = 0; i < METRICS.length; i++) {
                        out.metrics.put(METRICS[i], ((TFloat32) r.get(1 + i)).getFloat());
                    }
                    out.grad = new float[batch.logits().length];
                    ((TFloat32) r.get(1 + METRICS.length)).copyTo(DataBuffers.of(out.grad, false, false));
                    return out;
                }
            }
        }
    }

    // ---- references, in double ----

    /** Per-step terms of a reference: nll, weight, predicted and target class, each [B * S]. */
    static final class Terms {
        final double[] nll = new double[B * S];
        final double[] weight = new double[B * S];
        final int[] predicted = new int[B * S];
        final int[] target = new int[B * S];
    }

    /** The loss and metrics of the terms, as the contract defines them. */
    static double[] reduce(Terms t) {
        double n = 0;
        double total = 0;
        double hits = 0;
        double predictedIncorrect = 0;
        double labelledIncorrect = 0;
        double both = 0;
        for (int p = 0; p < B * S; p++) {
            double w = t.weight[p];
            if (w == 0) {
                continue; // padding: never read its nll, which may be garbage
            }
            n += w;
            total += w * t.nll[p];
            hits += t.predicted[p] == t.target[p] ? w : 0;
            boolean pi = t.predicted[p] == StepLabel.INCORRECT;
            boolean li = t.target[p] == StepLabel.INCORRECT;
            predictedIncorrect += pi ? w : 0;
            labelledIncorrect += li ? w : 0;
            both += pi && li ? w : 0;
        }
        return new double[] {total / Math.max(n, 1), hits / Math.max(n, 1), n, both / Math.max(predictedIncorrect, 1),
            both / Math.max(labelledIncorrect, 1)};
    }

    /** -log softmax(x)[label] with a stable log-sum-exp; argmax with the first index on ties. */
    static Terms threeClass(double[] x, int[] labels, double[] weight) {
        Terms t = new Terms();
        for (int p = 0; p < B * S; p++) {
            t.weight[p] = weight[p];
            t.target[p] = labels[p];
            if (weight[p] == 0) {
                continue;
            }
            int base = p * 3;
            double max = Math.max(x[base], Math.max(x[base + 1], x[base + 2]));
            double z = 0;
            int arg = 0;
            for (int c = 0; c < 3; c++) {
                z += Math.exp(x[base + c] - max);
                if (x[base + c] > x[base + arg]) {
                    arg = c;
                }
            }
            t.nll[p] = max + Math.log(z) - x[base + labels[p]];
            t.predicted[p] = arg;
        }
        return t;
    }

    /** log(1 + exp(x)) without overflow. */
    static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /**
     * Two classes from a correctness logit z per step: -log sigmoid(z) for correct, -log sigmoid(-z) for incorrect,
     * neutral mapped by {@code neutral} ("correct", "incorrect", "ignore").
     */
    static Terms twoClass(double[] z, int[] labels, double[] weight, String neutral) {
        Terms t = new Terms();
        for (int p = 0; p < B * S; p++) {
            if (weight[p] == 0 || (labels[p] == StepLabel.NEUTRAL && neutral.equals("ignore"))) {
                continue;
            }
            boolean incorrect = labels[p] == StepLabel.INCORRECT
                    || (labels[p] == StepLabel.NEUTRAL && neutral.equals("incorrect"));
            t.weight[p] = weight[p];
            t.target[p] = incorrect ? StepLabel.INCORRECT : StepLabel.CORRECT;
            t.predicted[p] = z[p] >= 0 ? StepLabel.CORRECT : StepLabel.INCORRECT;
            double probCorrectLogit = incorrect ? -z[p] : z[p];
            t.nll[p] = softplus(-probCorrectLogit);
        }
        return t;
    }

    /** z = first logit - last logit of each step. */
    static double[] firstMinusLast(double[] x, int c) {
        double[] z = new double[B * S];
        for (int p = 0; p < B * S; p++) {
            z[p] = x[p * c] - x[p * c + c - 1];
        }
        return z;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** The mask itself where a step is the last real one of its row, 0 elsewhere. */
    static double[] lastSteps(float[] mask) {
        double[] last = new double[B * S];
        for (int b = 0; b < B; b++) {
            for (int s = S - 1; s >= 0; s--) {
                if (mask[b * S + s] > 0) {
                    last[b * S + s] = mask[b * S + s];
                    break;
                }
            }
        }
        return last;
    }

    /** A loss under test with its reference: loss and metrics from logits (double), labels and mask. */
    interface Reference {
        double[] of(double[] logits, int[] labels, float[] mask);
    }

    static Reference stepCrossEntropy() {
        return (x, y, m) -> reduce(threeClass(x, y, toDouble(m)));
    }

    static Reference stepBinary(int c, String neutral) {
        return (x, y, m) -> reduce(twoClass(firstMinusLast(x, c), y, toDouble(m), neutral));
    }

    static Reference singleLogit(String neutral) {
        return (x, y, m) -> reduce(twoClass(x, y, toDouble(m), neutral));
    }

    static Reference outcome(int c, String neutral) {
        return (x, y, m) -> neutral == null ? reduce(threeClass(x, y, lastSteps(m)))
                : reduce(twoClass(firstMinusLast(x, c), y, lastSteps(m), neutral));
    }

    // ---- data ----

    static float[] randomLogits(long seed, double scale, int c) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[B * S * c];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (scale * r.nextDouble(-1, 1));
        }
        return x;
    }

    /**
     * Labels of every class at the real steps, and at the last real steps; garbage (-100, 7, MIN_VALUE) at padding.
     */
    static int[] labels(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] y = new int[B * S];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(StepLabel.COUNT);
        }
        y[0] = StepLabel.CORRECT;
        y[1] = StepLabel.NEUTRAL;
        y[2] = StepLabel.INCORRECT;
        y[4] = StepLabel.INCORRECT; // the last steps of the rows (outcome supervision) hold every class
        y[7] = StepLabel.NEUTRAL;
        y[17] = StepLabel.CORRECT;
        y[8] = -100;
        y[9] = 7;
        y[12] = Integer.MIN_VALUE;
        return y;
    }

    /** Row 0 full, row 1 padded after 3 steps, row 2 all padding, row 3 one step then a hole then one more. */
    static float[] mask() {
        return new float[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0};
    }

    static final int[] PADDING = {8, 9, 10, 11, 12, 13, 14, 16, 18, 19};

    static Batch batch(long seed, double scale, int c) {
        return new Batch(c, randomLogits(seed, scale, c), labels(seed + 1), mask());
    }

    static Settings neutral(String value) {
        return Settings.of("test.yaml", Map.of("neutral", value));
    }

    /** Every loss, with the settings it runs under, the class count it takes, and its reference. */
    record Case(String what, ProcessLoss loss, Settings settings, int c, Reference reference) {
    }

    static List<Case> cases() {
        List<Case> out = new java.util.ArrayList<>();
        out.add(new Case("step-cross-entropy", new StepCrossEntropyLoss(), null, 3, stepCrossEntropy()));
        for (String n : new String[] {"correct", "incorrect", "ignore"}) {
            for (int c : new int[] {2, 3}) {
                out.add(new Case("step-binary C=" + c + " neutral " + n, new StepBinaryCrossEntropyLoss(),
                        neutral(n), c, stepBinary(c, n)));
            }
            out.add(new Case("step-single-logit neutral " + n, new StepSigmoidCrossEntropyLoss(), neutral(n), 1,
                    singleLogit(n)));
            out.add(new Case("outcome neutral " + n, new OutcomeCrossEntropyLoss(), neutral(n), 2, outcome(2, n)));
        }
        out.add(new Case("step-binary default", new StepBinaryCrossEntropyLoss(), null, 2, stepBinary(2, "correct")));
        out.add(new Case("step-single-logit default", new StepSigmoidCrossEntropyLoss(), null, 1,
                singleLogit("correct")));
        out.add(new Case("outcome 3-class", new OutcomeCrossEntropyLoss(), null, 3, outcome(3, null)));
        return out;
    }

    static void assertRel(double expected, double actual, double tol, String what) {
        double err = expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    static void assertMatches(Case k, Batch batch, Run r, double tol) {
        double[] ref = k.reference().of(toDouble(batch.logits()), batch.labels(), batch.mask());
        assertRel(ref[0], r.loss, tol, k.what() + ": loss");
        for (int i = 0; i < METRICS.length; i++) {
            assertRel(ref[1 + i], r.metrics.get(METRICS[i]), 1e-6, k.what() + ": " + METRICS[i]);
        }
    }

    // ---- values ----

    @Test
    void everyLossMatchesItsReference() {
        for (Case k : cases()) {
            Batch batch = batch(1, 3, k.c());
            for (boolean staticShapes : new boolean[] {false, true}) {
                assertMatches(k, batch, run(k.loss(), k.settings(), batch, staticShapes), 1e-5);
            }
        }
    }

    @Test
    void theNeutralMappingChangesWhatIsLearned() {
        Batch batch = batch(3, 3, 2);
        float correct = run(new StepBinaryCrossEntropyLoss(), neutral("correct"), batch, false).loss;
        float incorrect = run(new StepBinaryCrossEntropyLoss(), neutral("incorrect"), batch, false).loss;
        float ignore = run(new StepBinaryCrossEntropyLoss(), neutral("ignore"), batch, false).loss;
        assertTrue(correct != incorrect && correct != ignore && incorrect != ignore,
                correct + " " + incorrect + " " + ignore);
        Run ignored = run(new StepBinaryCrossEntropyLoss(), neutral("ignore"), batch, false);
        long realNeutral = 0;
        long real = 0;
        for (int p = 0; p < B * S; p++) {
            real += batch.mask()[p] > 0 ? 1 : 0;
            realNeutral += batch.mask()[p] > 0 && batch.labels()[p] == StepLabel.NEUTRAL ? 1 : 0;
        }
        assertTrue(realNeutral > 0, "the data hold neutral steps");
        assertEquals(real - realNeutral, ignored.metrics.get(StepReduction.NUM_STEPS), 0f, "num_steps without neutral");
        for (int p = 0; p < B * S; p++) {
            if (batch.labels()[p] == StepLabel.NEUTRAL) {
                assertEquals(0f, ignored.grad[2 * p], 0f, "gradient at an ignored neutral step");
                assertEquals(0f, ignored.grad[2 * p + 1], 0f, "gradient at an ignored neutral step");
            }
        }
    }

    @Test
    void paddingTakesNoPartWhateverItHolds() {
        for (Case k : cases()) {
            Batch batch = batch(5, 3, k.c());
            Run r = run(k.loss(), k.settings(), batch, false);
            float[] other = batch.logits().clone();
            int[] otherLabels = batch.labels().clone();
            for (int p : PADDING) {
                for (int c = 0; c < k.c(); c++) {
                    assertEquals(0f, r.grad[p * k.c() + c], 0f, k.what() + ": gradient at padding " + p);
                    other[p * k.c() + c] = (c % 2 == 0 ? 500f : -500f);
                }
                otherLabels[p] = StepLabel.INCORRECT;
            }
            Run changed = run(k.loss(), k.settings(), batch.withLogits(other).withLabels(otherLabels), false);
            assertEquals(r.loss, changed.loss, 0f, k.what() + ": loss after changing padding");
            assertEquals(r.metrics, changed.metrics, k.what() + ": metrics after changing padding");
        }
    }

    @Test
    void noRealStepGivesZeroNotNaN() {
        for (Case k : cases()) {
            Batch batch = batch(7, 3, k.c()).withMask(new float[B * S]);
            Run r = run(k.loss(), k.settings(), batch, false);
            assertEquals(0f, r.loss, 0f, k.what() + ": loss");
            for (String m : METRICS) {
                assertEquals(0f, r.metrics.get(m), 0f, k.what() + ": " + m);
            }
            for (float g : r.grad) {
                assertEquals(0f, g, 0f, k.what() + ": gradient");
            }
        }
    }

    /** Logits of +-1000 (exp overflows float32 beyond ~88): finite and right, gradients finite. */
    @Test
    void logitsOfAThousandStayFiniteAndRight() {
        for (Case k : cases()) {
            Batch batch = batch(9, 1, k.c());
            float[] x = batch.logits();
            for (int i = 0; i < x.length; i++) {
                x[i] = i % 3 == 0 ? 1000f : (i % 3 == 1 ? -1000f : 0.5f * (i % 7));
            }
            x[0] = 0f; // a tie-free mix of huge and ordinary logits
            Run r = run(k.loss(), k.settings(), batch, false);
            assertTrue(Float.isFinite(r.loss), k.what() + ": loss " + r.loss);
            for (float g : r.grad) {
                assertTrue(Float.isFinite(g), k.what() + ": gradient " + g);
            }
            assertMatches(k, batch, r, 1e-5);
        }
    }

    @Test
    void outcomeReadsOnlyTheLastRealStep() {
        Batch batch = batch(11, 3, 3);
        int[] other = batch.labels().clone();
        float[] logits = batch.logits().clone();
        for (int p : new int[] {0, 1, 2, 3, 5, 6, 15}) { // real steps that are not the last of their row
            other[p] = (other[p] + 1) % StepLabel.COUNT;
            logits[3 * p] += 2;
        }
        for (Settings s : new Settings[] {null, neutral("incorrect")}) {
            Run r = run(new OutcomeCrossEntropyLoss(), s, batch, false);
            Run changed = run(new OutcomeCrossEntropyLoss(), s, batch.withLabels(other).withLogits(logits), false);
            assertEquals(r.loss, changed.loss, 0f, "loss");
            assertEquals(3f, r.metrics.get(StepReduction.NUM_STEPS), 0f, "one last step per row with a real step");
        }
    }

    // ---- gradients ----

    /**
     * The graph's d loss / d logits against central differences of the double reference (step 1e-4 on logits of
     * scale 3): norm-wise relative error below 1e-5. One logit sits exactly at 0, where softplus forms built on |z|
     * give the wrong gradient.
     */
    @Test
    void gradientsMatchCentralDifferencesOfTheReferences() {
        for (Case k : cases()) {
            Batch batch = batch(13, 3, k.c());
            batch.logits()[0] = 0f;
            if (k.c() > 1) {
                batch.logits()[k.c() - 1] = 0f; // z = 0 for the two-class losses too
            }
            Run r = run(k.loss(), k.settings(), batch, false);
            double[] x = toDouble(batch.logits());
            double num = 0;
            double den = 0;
            double h = 1e-4;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + h;
                double plus = k.reference().of(x, batch.labels(), batch.mask())[0];
                x[i] = keep - h;
                double minus = k.reference().of(x, batch.labels(), batch.mask())[0];
                x[i] = keep;
                double fd = (plus - minus) / (2 * h);
                num += (r.grad[i] - fd) * (r.grad[i] - fd);
                den += fd * fd;
            }
            double err = Math.sqrt(num / den);
            assertTrue(den > 0 && err <= 1e-5, k.what() + ": ||grad - fd|| / ||fd|| = " + err);
        }
    }

    @Test
    void singleLogitGradientAtZeroIsSigmoidMinusTarget() {
        Batch batch = batch(15, 3, 1).withMask(new float[B * S]);
        batch.mask()[0] = 1; // one step, labelled correct, logit 0
        batch.logits()[0] = 0f;
        Run r = run(new StepSigmoidCrossEntropyLoss(), null, batch, false);
        assertRel(Math.log(2), r.loss, 1e-6, "loss at z = 0");
        assertRel(-0.5, r.grad[0], 1e-6, "d loss / dz at z = 0 (sigmoid(0) - 1)");
    }

    // ---- settings and shapes ----

    static Settings lossSection(Map<String, Object> loss) {
        Settings file = Settings.of("pipelines/prm.yaml", Map.of("stages", List.of(Map.of("loss", loss))));
        return file.sections("stages").get(0).section("loss");
    }

    @Test
    void settingsAreChecked() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> new StepCrossEntropyLoss().validate(lossSection(Map.of("neutral", "correct"))));
        assertEquals("pipelines/prm.yaml: stages[0].loss.neutral: unknown setting (accepted here: )", e.getMessage());
        for (ProcessLoss l : List.of(new StepBinaryCrossEntropyLoss(), new StepSigmoidCrossEntropyLoss(),
                new OutcomeCrossEntropyLoss())) {
            e = assertThrows(SettingsException.class, () -> l.validate(lossSection(Map.of("netural", "correct"))));
            assertEquals("pipelines/prm.yaml: stages[0].loss.netural: unknown setting (accepted here: neutral)",
                    e.getMessage());
            e = assertThrows(SettingsException.class, () -> l.validate(lossSection(Map.of("neutral", "maybe"))));
            assertEquals("pipelines/prm.yaml: stages[0].loss.neutral: expected one of correct, incorrect, ignore, "
                    + "got \"maybe\"", e.getMessage());
            e = assertThrows(SettingsException.class,
                    () -> l.validate(lossSection(Map.of("neutral", List.of("correct")))));
            assertEquals("stages[0].loss.neutral", e.key());
            l.validate(lossSection(Map.of("neutral", "Ignore")));
            l.validate(Settings.empty("pipelines/prm.yaml", "stages[0].loss"));
        }
        new StepCrossEntropyLoss().validate(Settings.empty("pipelines/prm.yaml", "stages[0].loss"));
    }

    @Test
    void computeChecksSettingsToo() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> logits = tf.constant(new float[1][2][2]);
            Operand<TInt32> labels = tf.constant(new int[1][2]);
            Operand<TFloat32> mask = tf.constant(new float[1][2]);
            assertThrows(SettingsException.class, () -> new StepBinaryCrossEntropyLoss().compute(tf, logits, labels,
                    mask, lossSection(Map.of("neutral", "both"))));
            assertThrows(SettingsException.class, () -> new OutcomeCrossEntropyLoss().compute(tf, logits, labels,
                    mask, lossSection(Map.of("classes", 2))));
        }
    }

    @Test
    void aWrongNumberOfClassesIsNamed() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TInt32> labels = tf.constant(new int[2][4]);
            Operand<TFloat32> mask = tf.constant(new float[2][4]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new StepCrossEntropyLoss().compute(tf, tf.constant(new float[2][4][2]), labels, mask));
            assertEquals("step-cross-entropy loss: stepLogits have shape [2, 4, 2] (C = 2); this loss takes 3 "
                    + "logits per step (correct, neutral, incorrect) (step-cross-entropy: 3 logits, step-binary: 2 "
                    + "or 3, step-single-logit: 1)", e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> new StepBinaryCrossEntropyLoss().compute(tf, tf.constant(new float[2][4][1]), labels, mask));
            assertThrows(IllegalArgumentException.class,
                    () -> new StepSigmoidCrossEntropyLoss().compute(tf, tf.constant(new float[2][4][3]), labels,
                            mask));
            e = assertThrows(IllegalArgumentException.class,
                    () -> new OutcomeCrossEntropyLoss().compute(tf, tf.constant(new float[2][4]), labels, mask));
            assertEquals("outcome loss: stepLogits have shape [2, 4]; expected [B, S, C], one row of class scores "
                    + "per step", e.getMessage());
        }
    }

}
