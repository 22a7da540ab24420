package org.align4j.loss.preference;

import static org.align4j.loss.preference.Harness.extremeBatch;
import static org.align4j.loss.preference.Harness.lossSection;
import static org.align4j.loss.preference.Harness.random;
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
 * {@link IpoLoss} under both normalisations against double-precision loops, its metrics (on the summed log-probs in
 * both) against loops, its gradient against central differences of the loop, with ties and log-ratio gaps of
 * +-1000; and its settings checks.
 */
class IpoLossTest {
    static final MaxErrors MAX = new MaxErrors("ipo");
    final PreferenceLoss loss = new IpoLoss();

    @AfterAll
    static void summary() {
        MAX.print();
    }

    /**
     * {@code mean_b (h - 1 / (2 beta))^2}, with {@code h = (pc/nc - pr/nr) - (rc/nc - rr/nr)} when
     * {@code perToken}, else {@code h = (pc - pr) - (rc - rr)}, in double.
     */
    static Reference reference(Batch b, boolean perToken) {
        return (pc, pr) -> {
            double sum = 0;
            for (int i = 0; i < b.size(); i++) {
                double h;
                if (perToken) {
                    double nc = b.nc[i];
                    double nr = b.nr[i];
                    h = (pc[i] / nc - pr[i] / nr) - (b.rc[i] / nc - b.rr[i] / nr);
                } else {
                    h = (pc[i] - pr[i]) - ((double) b.rc[i] - b.rr[i]);
                }
                double d = h - 1 / (2.0 * b.beta);
                sum += d * d;
            }
            return sum / b.size();
        };
    }

    private void check(Batch b, boolean perToken, Settings settings, String what) {
        MAX.check(loss, b, settings, reference(b, perToken), what);
    }

    /** Completion lengths of 1 to 80 tokens. */
    static Batch withTokens(Batch b, long seed) {
        float[] nc = random(seed, b.size(), 1, 80);
        float[] nr = random(seed + 1, b.size(), 1, 80);
        for (int i = 0; i < nc.length; i++) {
            nc[i] = (float) Math.floor(nc[i]);
            nr[i] = (float) Math.floor(nr[i]);
        }
        return b.tokens(nc, nr);
    }

    @Test
    void perTokenIsTheDefault() {
        Batch b = withTokens(randomBatch(61, 16, 0.1f), 71);
        check(b, true, null, "compute(tf, batch)");
        check(b, true, Settings.empty("pipe.yaml", "stages[0].loss"), "empty settings");
        check(b, true, lossSection(Map.of("normalize", "per-token")), "normalize: per-token");
    }

    @Test
    void noneUsesTheSummedLogProbs() {
        Batch b = randomBatch(81, 16, 0.1f);
        check(b, false, lossSection(Map.of("normalize", "none")), "normalize: none, no token counts");
        check(withTokens(randomBatch(82, 16, 0.5f), 91), false, lossSection(Map.of("normalize", "none")),
                "normalize: none, token counts given and unused");
    }

    @Test
    void gapsOfAThousandStayFiniteAndRight() {
        check(extremeBatch(1f), false, lossSection(Map.of("normalize", "none")), "+-1000, none");
        Batch b = extremeBatch(0.1f).tokens(new float[] {1000, 3, 7, 1, 25}, new float[] {2, 1000, 7, 4, 25});
        check(b, true, null, "+-1000, per-token");
        Batch lost = new Batch(new float[] {-1010}, new float[] {-10}, new float[] {-500}, new float[] {-500}, 1f);
        Run l = run(loss, lost, lossSection(Map.of("normalize", "none")));
        assertEquals(1001000.25f, l.loss, 0.1f, "lost by 1000, beta 1: (-1000 - 0.5)^2");
    }

    /** h = 0 (pair 2 of the extreme batch has equal token counts): the loss is (1 / (2 beta))^2. */
    @Test
    void tiesCostTheSquaredTarget() {
        float[] pc = {-12, -40.5f, -7};
        float[] pr = {-30, -40.5f, -9};
        Batch b = new Batch(pc, pr, pc.clone(), pr.clone(), 0.1f).tokens(new float[] {4, 9, 2},
                new float[] {6, 9, 3});
        for (boolean perToken : new boolean[] {true, false}) {
            Settings s = lossSection(Map.of("normalize", perToken ? "per-token" : "none"));
            Run run = run(loss, b, s);
            MAX.loss(25, run.loss, 1e-6, "ties, per-token " + perToken);
            assertEquals(0f, run.metrics.get("rewards/accuracies"), 0f, "ties are not right");
            check(b, perToken, s, "ties, per-token " + perToken);
        }
    }

    @Test
    void perTokenWithoutTokenCountsFailsSayingWhatToDo() {
        Batch b = randomBatch(1, 3, 0.1f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(loss, b, null));
        assertTrue(e.getMessage().contains("normalize: per-token") && e.getMessage().contains("token counts")
                && e.getMessage().contains("normalize: none"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> run(loss, b, lossSection(Map.of("normalize", "per-token"))));
    }

    @Test
    void validateRejectsUnknownKeysAndValuesNamingTheKey() {
        loss.validate(lossSection(Map.of()));
        loss.validate(lossSection(Map.of("normalize", "none")));
        loss.validate(lossSection(Map.of("normalize", "per-token")));
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("label_smoothing", 0.1))));
        assertEquals("pipe.yaml: stages[0].loss.label_smoothing: unknown setting (accepted here: normalize)",
                unknown.getMessage());
        SettingsException value = assertThrows(SettingsException.class,
                () -> loss.validate(lossSection(Map.of("normalize", "per_token"))));
        assertEquals("pipe.yaml: stages[0].loss.normalize: expected per-token or none, got \"per_token\"",
                value.getMessage());
    }

    @Test
    void registeredAsIpoInThePreferenceFamily() throws IOException {
        Harness.assertRegistered(IpoLoss.class, "ipo");
    }
}
