package org.align4j.loss.preference;

import static org.align4j.loss.preference.Harness.extremeBatch;
import static org.align4j.loss.preference.Harness.logit;
import static org.align4j.loss.preference.Harness.lossSection;
import static org.align4j.loss.preference.Harness.negLogSigmoid;
import static org.align4j.loss.preference.Harness.randomBatch;
import static org.align4j.loss.preference.Harness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;

import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.loss.preference.Harness.Batch;
import org.align4j.loss.preference.Harness.MaxErrors;
import org.align4j.loss.preference.Harness.Reference;
import org.align4j.loss.preference.Harness.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link DpopLoss} and its metrics against double-precision loops, its gradient against central differences of the
 * loop, for lambda 0 (plain DPO), the default 50 and gaps of +-1000; the penalty acting only when the chosen answer
 * lost likelihood; and its setting.
 */
class DpopLossTest {
    static final MaxErrors MAX = new MaxErrors("dpop");
    final PreferenceLoss loss = new DpopLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    /** {@code mean_b -log sigmoid(beta * (l - lambda * max(0, rc - pc)))}, in double. */
    static Reference reference(Batch b, double lambda) {
        return (pc, pr) -> {
            double sum = 0;
            for (int i = 0; i < b.size(); i++) {
                double drop = Math.max(0, (double) b.rc[i] - pc[i]);
                sum += negLogSigmoid(b.beta * (logit(pc, pr, b, i) - lambda * drop));
            }
            return sum / b.size();
        };
    }

    private void check(Batch b, double lambda, Settings settings, String what) {
        MAX.check(loss, b, settings, reference(b, lambda), what);
    }

    @Test
    void lossMetricsAndGradientMatchTheLoops() {
        check(randomBatch(61, 16, 0.1f), 50, null, "default lambda 50");
        check(randomBatch(62, 16, 0.3f), 5, lossSection(Map.of("lambda", 5)), "lambda 5, beta 0.3");
        check(randomBatch(63, 16, 0.1f), 0, lossSection(Map.of("lambda", 0)), "lambda 0");
    }

    @Test
    void lambdaZeroIsPlainDpo() {
        Batch b = randomBatch(64, 12, 0.2f);
        Run dpop = run(loss, b, lossSection(Map.of("lambda", 0)));
        Reference dpo = DpoLossTest.reference(b, 0);
        MAX.loss(dpo.loss(Harness.toDouble(b.pc), Harness.toDouble(b.pr)), dpop.loss, 1e-5, "lambda 0 = dpo");
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        check(extremeBatch(1f), 50, null, "+-1000, lambda 50");
        check(extremeBatch(0.1f), 0.5, lossSection(Map.of("lambda", 0.5)), "+-1000, lambda 0.5");
    }

    @Test
    void thePenaltyActsOnlyWhenTheChosenAnswerLostLikelihood() {
        // pair 0: the chosen answer gained 2 nats over the reference; pair 1: it lost 2 (the gap is the same)
        float[] pc = {-8, -12};
        float[] pr = {-20, -24};
        float[] rc = {-10, -10};
        float[] rr = {-15, -17};
        Batch b = new Batch(pc, pr, rc, rr, 0.1f);
        Run run = run(loss, b, lossSection(Map.of("lambda", 10)));
        double gained = negLogSigmoid(0.1 * 7);
        double lost = negLogSigmoid(0.1 * (5 - 10 * 2));
        MAX.loss((gained + lost) / 2, run.loss, 1e-6, "by hand");
        // the penalty's slope: d/d pc of pair 1 is (1 + lambda) times the plain one, pair 0 keeps the plain one
        double s0 = 1 / (1 + Math.exp(0.1 * 7));
        double s1 = 1 / (1 + Math.exp(0.1 * (5 - 20)));
        assertEquals(-0.1 * s0 / 2, run.gradPc[0], 1e-6, "pair 0");
        assertEquals(-0.1 * 11 * s1 / 2, run.gradPc[1], 1e-6, "pair 1");
        assertTrue(run.gradPc[1] < run.gradPc[0], "the chosen answer that lost likelihood is pushed up harder");
    }

    @Test
    void validateChecksLambda() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("lambda", 0)));
        SettingsException neg = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("lambda", -1))));
        assertTrue(neg.getMessage().startsWith("pipe.yaml: stages[0].loss.lambda: expected a number >= 0"),
                neg.getMessage());
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", 0.1))));
        assertTrue(unknown.getMessage().startsWith("pipe.yaml: stages[0].loss.label_smoothing: unknown setting"),
                unknown.getMessage());
    }

    @Test
    void registeredAsDpopInThePreferenceFamily() throws IOException {
        Harness.assertRegistered(DpopLoss.class, "dpop");
    }
}
