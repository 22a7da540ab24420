package org.align4j.trainer.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/** {@link PpoSettings}: its defaults, what each key reads, and errors that name the file and the key. */
class PpoSettingsTest {
    private static final String FILE = "test.yaml";

    /** A valid stage: a reward model, an optimizer and 16 steps (one iteration at the defaults). */
    private static Map<String, Object> stage(Object... more) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trainer", "ppo");
        m.put("reward_model", "arithmetic-rm");
        m.put("optimizer", Map.of("name", "adamw"));
        m.put("steps", 16);
        for (int i = 0; i < more.length; i += 2) {
            if (more[i + 1] == null) {
                m.remove((String) more[i]);
            } else {
                m.put((String) more[i], more[i + 1]);
            }
        }
        return m;
    }

    private static PpoSettings read(Map<String, Object> stage) {
        return new PpoSettings(Settings.of(FILE, stage));
    }

    /** Reading {@code stage} fails on {@code key}: the message names the file and the key and says {@code words}. */
    private static SettingsException fails(Map<String, Object> stage, String key, String... words) {
        SettingsException e = assertThrows(SettingsException.class, () -> read(stage));
        assertEquals(key, e.key(), e.getMessage());
        assertTrue(e.getMessage().startsWith(FILE + ": " + key + ": "), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "\"" + w + "\" in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void defaults() {
        PpoSettings s = read(stage("steps", 48));
        assertEquals("arithmetic-rm", s.reward);
        assertEquals(Optional.empty(), s.rewardVersion);
        assertTrue(s.rewardTimeout < 0, "no timeout: wait");
        assertEquals(16, s.prompts);
        assertEquals(4, s.samples);
        assertEquals(1.0, s.temperature, 0.0);
        assertEquals(0, s.topK);
        assertEquals(64, s.maxTokens);
        assertEquals(4, s.epochs);
        assertEquals(1.0, s.gamma, 0.0);
        assertEquals(0.95, s.lambda, 0.0);
        assertEquals(0.05, s.klCoef, 0.0);
        assertEquals(PpoSettings.Estimator.K1, s.estimator);
        assertTrue(Double.isNaN(s.klTarget), "fixed coefficient");
        assertEquals(0.0, s.entropyCoef, 0.0);
        assertEquals(0.0, s.missingEosPenalty, 0.0);
        assertFalse(s.dense);
        assertEquals(0.5, s.denseSteps, 0.0);
        assertEquals(1.0, s.denseOutcome, 0.0);
        assertEquals(1.0, s.denseBaseline, 0.0);
        assertNull(s.judge);
        assertEquals(4, s.window);
        assertFalse(s.pauseOnHacking);
        assertEquals(200, s.exactMatchSamples);
        assertEquals(64, s.exactMatchMaxTokens);
        assertEquals(16, s.loop.batch);
        assertEquals(48, s.loop.steps);
        // 16 prompts x 4 samples = 64 rollouts; 4 epochs x 64 / 16 = 16 updates; 48 / 16 = 3 iterations
        assertEquals(64, s.rollouts());
        assertEquals(16, s.updatesPerIteration());
        assertEquals(3, s.iterations());
    }

    @Test
    void everyKeyIsRead() {
        PpoSettings s = read(stage("reward_model", Map.of("name", "rm", "version", "2", "timeout", 600),
                "rollout", Map.of("prompts", 3, "samples", 2, "temperature", 0.7, "top_k", 5, "max_tokens", 12),
                "epochs", 2, "gamma", 0.99, "lambda", 0.9, "batch", 3, "steps", 8,
                "kl", Map.of("coef", 0.2, "estimator", "k3", "target", 4, "horizon", 500),
                "entropy_coef", 0.01, "missing_eos_penalty", 1.5,
                "dense", Map.of("steps", 0.25, "outcome", 2, "baseline", 0.5),
                "monitor", Map.of("judge", "verifier", "window", 6, "pause", true),
                "exact_match", Map.of("samples", 10, "max_tokens", 20), "task", "arithmetic", "loss", "ppo-clip"));
        assertEquals("rm", s.reward);
        assertEquals(Optional.of("2"), s.rewardVersion);
        assertEquals(600.0, s.rewardTimeout, 0.0);
        assertEquals(3, s.prompts);
        assertEquals(2, s.samples);
        assertEquals(0.7, s.temperature, 0.0);
        assertEquals(5, s.topK);
        assertEquals(12, s.maxTokens);
        assertEquals(2, s.epochs);
        assertEquals(0.99, s.gamma, 0.0);
        assertEquals(0.9, s.lambda, 0.0);
        assertEquals(0.2, s.klCoef, 0.0);
        assertEquals(PpoSettings.Estimator.K3, s.estimator);
        assertEquals(4.0, s.klTarget, 0.0);
        assertEquals(500.0, s.klHorizon, 0.0);
        assertEquals(0.01, s.entropyCoef, 0.0);
        assertEquals(1.5, s.missingEosPenalty, 0.0);
        assertTrue(s.dense);
        assertEquals(0.25, s.denseSteps, 0.0);
        assertEquals(2.0, s.denseOutcome, 0.0);
        assertEquals(0.5, s.denseBaseline, 0.0);
        assertEquals("verifier", s.judge);
        assertEquals(6, s.window);
        assertTrue(s.pauseOnHacking);
        assertEquals(10, s.exactMatchSamples);
        assertEquals(20, s.exactMatchMaxTokens);
        // 3 x 2 = 6 rollouts, batch 3: 2 x 6 / 3 = 4 updates per iteration, 8 steps = 2 iterations
        assertEquals(6, s.rollouts());
        assertEquals(4, s.updatesPerIteration());
        assertEquals(2, s.iterations());
    }

    @Test
    void stepsAreRequired() {
        fails(stage("steps", null), "steps", "missing", "whole number of iterations");
    }

    @Test
    void rewardModelIsRequired() {
        fails(stage("reward_model", null), "reward_model", "missing", "reward_model:");
    }

    @Test
    void rewardModelAsAStringIsItsName() {
        PpoSettings s = read(stage("reward_model", "arithmetic-verifier"));
        assertEquals("arithmetic-verifier", s.reward);
        assertTrue(s.rewardVersion.isEmpty());
        assertTrue(s.rewardTimeout < 0);
    }

    @Test
    void rewardModelAsASection() {
        PpoSettings s = read(stage("reward_model", Map.of("name", "arithmetic-rm", "version", "1.2", "timeout", 30)));
        assertEquals("arithmetic-rm", s.reward);
        assertEquals(Optional.of("1.2"), s.rewardVersion);
        assertEquals(30.0, s.rewardTimeout, 0.0);
        fails(stage("reward_model", Map.of("version", "2")), "reward_model.name", "missing");
        fails(stage("reward_model", Map.of("name", "rm", "versoin", "2")), "reward_model.versoin", "unknown",
                "version", "timeout");
        fails(stage("reward_model", Map.of("name", "rm", "timeout", -1)), "reward_model.timeout");
    }

    @Test
    void batchMustDivideTheRolloutsOfAnIteration() {
        // 3 prompts x 2 samples = 6 rollouts; batch 4 does not divide them
        fails(stage("rollout", Map.of("prompts", 3, "samples", 2), "batch", 4), "batch", "4", "6");
        // the default batch 16 with fewer rollouts than that
        fails(stage("rollout", Map.of("prompts", 2, "samples", 2)), "batch", "16", "4");
    }

    private static final Pattern USE = Pattern.compile("use (\\d+)(?: or (\\d+))?$");

    @Test
    void stepsMustBeWholeIterationsAndTheMessageProposesValidCounts() {
        // defaults: 16 updates per iteration
        check(stage("steps", 20), List.of(16, 32));
        check(stage("steps", 5), List.of(16));
        check(stage("steps", 1000), List.of(992, 1008));
        // 3 x 2 = 6 rollouts, batch 2, 3 epochs: 9 updates per iteration
        Map<String, Object> small = stage("rollout", Map.of("prompts", 3, "samples", 2), "batch", 2, "epochs", 3);
        small.put("steps", 10);
        check(small, List.of(9, 18));
    }

    private static void check(Map<String, Object> stage, List<Integer> proposed) {
        SettingsException e = fails(stage, "steps", "not a whole number of iterations", "" + stage.get("steps"));
        Matcher m = USE.matcher(e.getMessage());
        assertTrue(m.find(), "proposes step counts: " + e.getMessage());
        List<Integer> got = new ArrayList<>();
        got.add(Integer.parseInt(m.group(1)));
        if (m.group(2) != null) {
            got.add(Integer.parseInt(m.group(2)));
        }
        assertEquals(proposed, got, e.getMessage());
        for (int steps : got) {
            Map<String, Object> fixed = new LinkedHashMap<>(stage);
            fixed.put("steps", steps);
            PpoSettings s = read(fixed); // the proposal is accepted
            assertEquals(steps, s.iterations() * s.updatesPerIteration());
        }
    }

    @Test
    void klEstimator() {
        assertEquals(PpoSettings.Estimator.K1, read(stage("kl", Map.of("estimator", "k1"))).estimator);
        assertEquals(PpoSettings.Estimator.K3, read(stage("kl", Map.of("estimator", "k3"))).estimator);
        fails(stage("kl", Map.of("estimator", "k2")), "kl.estimator", "\"k2\"", "k1", "k3");
    }

    @Test
    void klHorizonNeedsATarget() {
        fails(stage("kl", Map.of("horizon", 1000)), "kl.horizon", "target");
        PpoSettings s = read(stage("kl", Map.of("target", 6)));
        assertEquals(6.0, s.klTarget, 0.0);
        assertEquals(10000.0, s.klHorizon, 0.0);
        fails(stage("kl", Map.of("coef", 0.1, "targte", 6)), "kl.targte", "unknown");
    }

    @Test
    void monitorNeedsAJudge() {
        fails(stage("monitor", Map.of("window", 5)), "monitor.judge", "missing");
        fails(stage("monitor", Map.of("judge", "v", "window", 1)), "monitor.window");
        PpoSettings s = read(stage("monitor", Map.of("judge", "arithmetic-verifier")));
        assertEquals("arithmetic-verifier", s.judge);
        assertEquals(4, s.window);
        assertFalse(s.pauseOnHacking);
        assertEquals("arithmetic-verifier", read(stage("monitor", "arithmetic-verifier")).judge,
                "monitor: <name> names the judge");
        assertEquals(2.0, s.threshold);
        assertEquals(3.5, read(stage("monitor", Map.of("judge", "v", "threshold", 3.5))).threshold);
        fails(stage("monitor", Map.of("judge", "v", "threshold", -1)), "monitor.threshold");
    }

    @Test
    void unknownKeysAreNamed() {
        fails(stage("epoch", 4), "epoch", "unknown", "epochs");
        fails(stage("rollout", Map.of("prompt", 4)), "rollout.prompt", "unknown", "prompts");
        fails(stage("dense", Map.of("step", 0.5)), "dense.step", "unknown", "steps");
        fails(stage("exact_match", Map.of("sample", 5)), "exact_match.sample", "unknown", "samples");
    }

    @Test
    void outOfRangeValuesNameTheirKey() {
        fails(stage("gamma", 1.5), "gamma", "1.5");
        fails(stage("lambda", -0.1), "lambda");
        fails(stage("rollout", Map.of("temperature", 0)), "rollout.temperature");
        fails(stage("kl", Map.of("coef", "lots")), "kl.coef", "\"lots\"");
    }

    @Test
    void optimizerNameIsRequiredByTheLoop() {
        fails(stage("optimizer", null), "optimizer.name", "missing");
        fails(stage("optimizer", Map.of("lr", 1e-3)), "optimizer.name", "missing");
    }
}
