package org.align4j.loss.policy;

import static org.align4j.loss.policy.Harness.ADVANTAGES;
import static org.align4j.loss.policy.Harness.ALL_CASES;
import static org.align4j.loss.policy.Harness.METRICS;
import static org.align4j.loss.policy.Harness.OLD_LOG_PROBS;
import static org.align4j.loss.policy.Harness.OLD_VALUES;
import static org.align4j.loss.policy.Harness.RETURNS;
import static org.align4j.loss.policy.Harness.batch;
import static org.align4j.loss.policy.Harness.cases;
import static org.align4j.loss.policy.Harness.lossSection;
import static org.align4j.loss.policy.Harness.mask;
import static org.align4j.loss.policy.Harness.reference;
import static org.align4j.loss.policy.Harness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;

import org.align4j.api.loss.PolicyBatch;
import org.align4j.api.loss.PolicyLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.loss.policy.Harness.Batch;
import org.align4j.loss.policy.Harness.MaxErrors;
import org.align4j.loss.policy.Harness.Options;
import org.align4j.loss.policy.Harness.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * {@link PpoClipLoss}: the loss and TRL's seven metrics against double-precision loops, the gradient with respect to
 * the log-probs and the values against central differences of the loop, on B = 3 by T = 5 batches with padding and an
 * all-padding row whose tokens cover both sides of both clips for both signs of the advantage; each setting; padding
 * that holds garbage; an all-padding batch; no gradient to the constant inputs; the refused settings.
 */
class PpoClipLossTest {
    static final MaxErrors MAX = new MaxErrors("ppo-clip");
    static final int B = 3;
    static final int T = 5;
    /** Row 0 all real, row 1 real in its first 3 tokens, row 2 all padding: 8 real tokens. */
    static final float[] MASK = mask(T, 5, 3, 0);
    final PolicyLoss loss = new PpoClipLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    @Test
    void defaultsMatchTheLoops() {
        for (long seed = 1; seed <= 3; seed++) {
            Batch b = batch(seed, B, T, MASK, new double[] {0.2}, new double[] {0.2});
            assertEquals(ALL_CASES, cases(b, Options.DEFAULTS), "the batch covers every side of both clips");
            MAX.check(loss, b, lossSection(Map.of()), Options.DEFAULTS, "defaults, seed " + seed);
        }
    }

    @Test
    void eachSettingChangesTheResultAsTheLoopsSay() {
        Batch b = batch(11, B, T, MASK, new double[] {0.2, 0.1, 0.3}, new double[] {0.2, 0.5});
        Run defaults = MAX.check(loss, b, lossSection(Map.of()), Options.DEFAULTS, "defaults");

        Options narrow = new Options(0.1, 0.2, 0.1);
        Run cliprange = MAX.check(loss, b, lossSection(Map.of("cliprange", 0.1)), narrow, "cliprange 0.1");
        assertDiffers(Options.DEFAULTS, narrow, b, "loss/policy", defaults, cliprange);
        assertDiffers(Options.DEFAULTS, narrow, b, "loss", defaults, cliprange);

        Options wideValue = new Options(0.2, 0.5, 0.1);
        Run cliprangeValue = MAX.check(loss, b, lossSection(Map.of("cliprange_value", 0.5)), wideValue,
                "cliprange_value 0.5");
        assertDiffers(Options.DEFAULTS, wideValue, b, "loss/value", defaults, cliprangeValue);
        assertDiffers(Options.DEFAULTS, wideValue, b, "loss", defaults, cliprangeValue);

        Options heavyValue = new Options(0.2, 0.2, 0.5);
        Run vfCoef = MAX.check(loss, b, lossSection(Map.of("vf_coef", 0.5)), heavyValue, "vf_coef 0.5");
        assertDiffers(Options.DEFAULTS, heavyValue, b, "loss", defaults, vfCoef);
        assertEquals(defaults.metrics.get("loss/value"), vfCoef.metrics.get("loss/value"),
                "vf_coef weighs the value loss, it does not change it");

        Options all = new Options(0.3, 0.5, 1);
        MAX.check(loss, b, lossSection(Map.of("cliprange", "0.3", "cliprange_value", 0.5, "vf_coef", 1)), all,
                "all three, one written as a string");
    }

    @Test
    void vfCoefZeroTrainsThePolicyOnly() {
        Batch b = batch(12, B, T, MASK, new double[] {0.2}, new double[] {0.2});
        Options o = new Options(0.2, 0.2, 0);
        Run run = MAX.check(loss, b, lossSection(Map.of("vf_coef", 0)), o, "vf_coef 0");
        assertEquals(run.metrics.get("loss/policy"), run.loss, "the loss is the policy loss");
        assertTrue(run.metrics.get("loss/value") > 0, "the value loss is still reported");
        for (int i = 0; i < b.size(); i++) {
            assertEquals(0f, run.gradValues[i], 0f, "no gradient to the values at " + i);
        }
    }

    @Test
    void paddingHoldingAnythingChangesNothing() {
        Batch clean = batch(13, B, T, MASK, new double[] {0.2}, new double[] {0.2});
        Batch dirty = clean.copy();
        float[] garbage = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -1e30f};
        int j = 0;
        for (int i = 0; i < dirty.size(); i++) {
            if (dirty.mask[i] == 0) {
                for (float[] input : dirty.inputs()) {
                    input[i] = garbage[j++ % garbage.length];
                }
                dirty.logProbs[i] = 100; // a log-ratio of 200: exp overflows float
                dirty.oldLogProbs[i] = -100;
            }
        }
        Run a = MAX.check(loss, clean, lossSection(Map.of()), Options.DEFAULTS, "finite padding");
        Run d = run(loss, dirty, lossSection(Map.of()));
        assertEquals(a.loss, d.loss, "loss");
        for (String name : METRICS) {
            assertEquals(a.metrics.get(name), d.metrics.get(name), name);
        }
        for (int i = 0; i < dirty.size(); i++) {
            assertEquals(a.gradLogProbs[i], d.gradLogProbs[i], "gradient to the log-probs at " + i);
            assertEquals(a.gradValues[i], d.gradValues[i], "gradient to the values at " + i);
        }
    }

    @Test
    void anAllPaddingBatchGivesZero() {
        float[] none = new float[B * T];
        Batch b = batch(14, B, T, none, new double[] {0.2}, new double[] {0.2});
        Run run = run(loss, b, lossSection(Map.of()));
        Map<String, Double> expected = reference(b, Options.DEFAULTS);
        assertEquals(0.0, expected.get("loss"), "the loop gives 0 too");
        MAX.loss(expected.get("loss"), run.loss, "all padding");
        MAX.metrics(expected, run, "all padding");
        for (int i = 0; i < b.size(); i++) {
            assertEquals(0f, run.gradLogProbs[i], 0f, "all padding: no gradient to the log-probs");
            assertEquals(0f, run.gradValues[i], 0f, "all padding: no gradient to the values");
        }
    }

    /**
     * The old log-probs and advantages are built from the log-probs, the old values and returns from the values (same
     * numbers, see {@link Harness#run(PolicyLoss, Batch, Settings, boolean)}): the gradient must still be the one of
     * the loop that holds them fixed. The loop's own sensitivity to each of them is measured first, so a leak would
     * show far above the 1e-5 tolerance.
     */
    @Test
    void theGradientReachesOnlyTheLogProbsAndTheValues() {
        Batch b = batch(15, B, T, MASK, new double[] {0.2}, new double[] {0.2});
        Run run = MAX.check(loss, b, lossSection(Map.of()), Options.DEFAULTS, true, "constants built from x");
        double norm = 0;
        for (int i = 0; i < b.size(); i++) {
            norm += run.gradLogProbs[i] * run.gradLogProbs[i] + run.gradValues[i] * run.gradValues[i];
        }
        norm = Math.sqrt(norm);
        String[] names = {"logProbs", "oldLogProbs", "advantages", "values", "oldValues", "returns"};
        for (int which : new int[] {OLD_LOG_PROBS, ADVANTAGES, OLD_VALUES, RETURNS}) {
            double leak = sensitivity(b, which);
            assertTrue(leak > 1e-2 * norm, names[which] + ": the loop hardly depends on it (" + leak + " vs "
                    + norm + "): a leak would go unseen");
        }
    }

    /** {@code ||d loss / d input||} of the loop by central differences (step 1e-3) on a copy of the batch. */
    private static double sensitivity(Batch b, int which) {
        double sum = 0;
        for (int i = 0; i < b.size(); i++) {
            Batch plus = b.copy();
            Batch minus = b.copy();
            plus.inputs()[which][i] += 1e-3f;
            minus.inputs()[which][i] -= 1e-3f;
            double d = (reference(plus, Options.DEFAULTS).get("loss") - reference(minus, Options.DEFAULTS).get("loss"))
                    / 2e-3;
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    @Test
    void validateAcceptsTheDefaultsAndTheRanges() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("cliprange", 0.05, "cliprange_value", 10, "vf_coef", 0)));
    }

    @Test
    void validateRefusesUnknownKeysAndValuesOutOfRange() {
        assertRefused(Map.of("clip_range", 0.2), "pipe.yaml: stages[0].loss.clip_range: unknown setting"
                + " (accepted here: cliprange, cliprange_value, vf_coef)");
        assertRefused(Map.of("cliprange", 0), "pipe.yaml: stages[0].loss.cliprange: expected a number > 0");
        assertRefused(Map.of("cliprange", -0.2), "pipe.yaml: stages[0].loss.cliprange: expected a number > 0");
        assertRefused(Map.of("cliprange", "Infinity"), "pipe.yaml: stages[0].loss.cliprange: expected a number > 0");
        assertRefused(Map.of("cliprange_value", 0),
                "pipe.yaml: stages[0].loss.cliprange_value: expected a number > 0");
        assertRefused(Map.of("vf_coef", -0.1), "pipe.yaml: stages[0].loss.vf_coef: expected a number >= 0");
        assertRefused(Map.of("vf_coef", "NaN"), "pipe.yaml: stages[0].loss.vf_coef: expected a number >= 0");
        assertRefused(Map.of("vf_coef", "lots"), "pipe.yaml: stages[0].loss.vf_coef: expected a number, got \"lots\"");
    }

    @Test
    void computeRefusesWhatValidateRefuses() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            PolicyBatch batch = new PolicyBatch(x, x, x, x, x, x, x);
            SettingsException e = assertThrows(SettingsException.class,
                    () -> loss.compute(tf, batch, lossSection(Map.of("cliprange", -1))));
            assertTrue(e.getMessage().startsWith("pipe.yaml: stages[0].loss.cliprange: expected a number > 0"),
                    e.getMessage());
        }
    }

    @Test
    void registeredAsPpoClipInThePolicyFamily() throws IOException {
        Harness.assertRegistered(PpoClipLoss.class, "ppo-clip");
    }

    private void assertRefused(Map<String, ?> section, String prefix) {
        Settings s = lossSection(section);
        SettingsException e = assertThrows(SettingsException.class, () -> loss.validate(s), section.toString());
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }

    /** The loops give {@code name} different values under {@code a} and {@code b}, and so do the two runs. */
    private static void assertDiffers(Options a, Options b, Batch batch, String name, Run runA, Run runB) {
        double x = reference(batch, a).get(name);
        double y = reference(batch, b).get(name);
        assertTrue(Math.abs(x - y) > 1e-3, name + ": the batch does not tell " + a + " from " + b + " (" + x + ")");
        float ra = name.equals("loss") ? runA.loss : runA.metrics.get(name);
        float rb = name.equals("loss") ? runB.loss : runB.metrics.get(name);
        assertTrue(Math.abs(ra - rb) > 1e-3, name + ": " + ra + " vs " + rb);
    }
}
