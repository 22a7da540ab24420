package org.align4j.trainer.ppo;

import java.util.Optional;

import org.align4j.api.pipeline.Settings;
import org.align4j.training.LoopSettings;

/**
 * The settings of a {@code ppo} stage: the loop's keys ({@link LoopSettings}; {@code steps} counts optimizer updates
 * and {@code batch} is the rollouts of one update) plus
 *
 * <pre>
 * reward_model: arithmetic-rm      # the RewardModel service that scores rollouts, by align4j.name (newest version),
 *                                  # or { name: arithmetic-rm, version: "2", timeout: 600 }: leased per rollout, so a
 *                                  # new version installed while the stage runs scores the next rollout. With none
 *                                  # registered the stage pauses at the rollout boundary until one is; after timeout
 *                                  # seconds (default: none, it waits) it stops with a checkpoint instead
 * loss: ppo-clip                   # a PolicyLoss, or { name: ppo-clip, cliprange: 0.2, cliprange_value: 0.2,
 *                                  #   vf_coef: 0.1 }
 * rollout: { prompts: 16, samples: 4, temperature: 1.0, top_k: 0, max_tokens: 64 }
 *                                  # per iteration: prompts drawn in order from the data, each answered samples times
 * epochs: 4                        # passes of minibatch updates over each iteration's rollouts
 * value_warmup: 0                  # iterations at the start that train the value model only (the policy's
 *                                  # gradient is held at 0 while the value model learns what an answer is worth)
 * gamma: 1.0                       # discount of GAE
 * lambda: 0.95                     # GAE's lambda
 * kl: { coef: 0.05, estimator: k1, target: 6, horizon: 10000 }
 *                                  # per-token penalty -coef * KL(policy || reference); estimator k1 (log-ratio) or k3
 *                                  # (exp(-r) - 1 + r, never negative); with target, the coefficient adapts (Ziegler
 *                                  # et al. 2019) so the rollouts' summed KL moves toward target over horizon rollouts
 * entropy_coef: 0                  # > 0: add that times the policy's mean entropy to the objective
 * missing_eos_penalty: 0           # subtracted from the score of a completion that ends without end-of-text
 * dense: { steps: 0.5, outcome: 1.0, baseline: 1.0 }
 *                                  # with a process reward model: at the last token of each step (line) add
 *                                  # steps * (step score - baseline); the outcome score is weighted by outcome
 * monitor: { judge: arithmetic-verifier, window: 4, threshold: 2, pause: false }   # or monitor: <judge>
 *                                  # the reward-hacking monitor: a second reward model scores the same rollouts; when
 *                                  # over the last window iterations the learned reward's trend is up and the judge's
 *                                  # is down, each by threshold standard errors of its slope, a warning is published
 *                                  # (and with pause, the stage stops with a checkpoint)
 * task: arithmetic                 # optional: a Task whose verifier judges held-out answers
 * exact_match: { samples: 200, max_tokens: 64 }   # held-out prompts answered greedily at each evaluation
 * </pre>
 *
 * One iteration is {@code rollout.prompts * rollout.samples} rollouts and {@code epochs * rollouts / batch} optimizer
 * steps; {@code steps} must be a whole number of iterations.
 */
final class PpoSettings {
    /** KL estimators: the log-ratio, and Schulman's non-negative {@code k3}. */
    enum Estimator { K1, K3 }

    final LoopSettings loop;
    final String reward;
    final Optional<String> rewardVersion;
    /** Seconds to wait for a missing reward model before stopping; negative: wait until one comes. */
    final double rewardTimeout;
    final int prompts;
    final int samples;
    final double temperature;
    final int topK;
    final int maxTokens;
    final int epochs;
    final int valueWarmup;
    final double gamma;
    final double lambda;
    final double klCoef;
    final Estimator estimator;
    /** Target summed KL per rollout for the adaptive controller; NaN for a fixed coefficient. */
    final double klTarget;
    final double klHorizon;
    final double entropyCoef;
    final double missingEosPenalty;
    final boolean dense;
    final double denseSteps;
    final double denseOutcome;
    final double denseBaseline;
    final String judge;
    final int window;
    final double threshold;
    final boolean pauseOnHacking;
    final int exactMatchSamples;
    final int exactMatchMaxTokens;

    PpoSettings(Settings s) {
        loop = new LoopSettings(s, "loss", "reward_model", "rollout", "epochs", "value_warmup", "gamma", "lambda", "kl",
                "entropy_coef", "missing_eos_penalty", "dense", "monitor", "task", "exact_match");
        if (!s.has("steps")) {
            throw s.error("steps", "missing (required): the optimizer steps of the stage, a whole number of iterations"
                    + " (each is epochs x rollout.prompts x rollout.samples / batch steps), e.g. steps: 400");
        }
        if (!s.has("reward_model")) {
            throw s.error("reward_model", "missing (required): the reward model that scores the rollouts, by name,"
                    + " e.g. reward_model: arithmetic-rm (or arithmetic-verifier, the task's own check)");
        }
        Settings r = s.section("reward_model").checkKnown("name", "version", "timeout");
        reward = r.getString("name");
        rewardVersion = Optional.ofNullable(r.getString("version", null));
        rewardTimeout = r.has("timeout") ? r.getDouble("timeout", -1, 0, 1e9) : -1;
        Settings ro = s.section("rollout").checkKnown("prompts", "samples", "temperature", "top_k", "max_tokens");
        prompts = ro.getInt("prompts", 16, 1, 1 << 16);
        samples = ro.getInt("samples", 4, 1, 1 << 10);
        temperature = ro.getDouble("temperature", 1.0, 1e-3, 100);
        topK = ro.getInt("top_k", 0, 0, 1 << 20);
        maxTokens = ro.getInt("max_tokens", 64, 1, 1 << 16);
        epochs = s.getInt("epochs", 4, 1, 1000);
        valueWarmup = s.getInt("value_warmup", 0, 0, 1 << 20);
        gamma = s.getDouble("gamma", 1.0, 0, 1);
        lambda = s.getDouble("lambda", 0.95, 0, 1);
        Settings kl = s.section("kl").checkKnown("coef", "estimator", "target", "horizon");
        klCoef = kl.getDouble("coef", 0.05, 0, 1e6);
        String est = kl.getString("estimator", "k1");
        if (!est.equals("k1") && !est.equals("k3")) {
            throw kl.error("estimator", "expected k1 (log-ratio log p - log p_ref) or k3 (exp(-r) - 1 + r with r the"
                    + " log-ratio, never negative), got \"" + est + "\"");
        }
        estimator = est.equals("k1") ? Estimator.K1 : Estimator.K3;
        klTarget = kl.has("target") ? kl.getDouble("target", 6, 1e-9, 1e9) : Double.NaN;
        klHorizon = kl.getDouble("horizon", 10000, 1, 1e12);
        if (!kl.has("target") && kl.has("horizon")) {
            throw kl.error("horizon", "is read only with kl.target (the adaptive coefficient); set target too, or"
                    + " remove horizon for a fixed coefficient");
        }
        entropyCoef = s.getDouble("entropy_coef", 0, 0, 1e6);
        missingEosPenalty = s.getDouble("missing_eos_penalty", 0, 0, 1e6);
        dense = s.has("dense");
        Settings d = s.section("dense").checkKnown("steps", "outcome", "baseline");
        denseSteps = d.getDouble("steps", 0.5, 0, 1e6);
        denseOutcome = d.getDouble("outcome", 1.0, 0, 1e6);
        denseBaseline = d.getDouble("baseline", 1.0, -1e6, 1e6);
        Settings m = s.section("monitor").checkKnown("judge", "name", "window", "threshold", "pause");
        judge = m.getString("judge", m.getString("name", null)); // monitor: arithmetic-verifier names the judge
        if (s.has("monitor") && judge == null) {
            throw m.error("judge", "missing (required): the reward model the monitor compares with, e.g. judge:"
                    + " arithmetic-verifier (one the policy is not trained on)");
        }
        window = m.getInt("window", 4, 2, 1 << 20);
        threshold = m.getDouble("threshold", 2.0, 0, 1e6);
        pauseOnHacking = m.getBoolean("pause", false);
        Settings em = s.section("exact_match").checkKnown("samples", "max_tokens");
        exactMatchSamples = em.getInt("samples", 200, 0, 1 << 20);
        exactMatchMaxTokens = em.getInt("max_tokens", 64, 1, 1 << 16);
        int rollouts = prompts * samples;
        if (rollouts % loop.batch != 0) {
            throw s.error("batch", "is " + loop.batch + " rollouts per update, but an iteration has rollout.prompts x"
                    + " rollout.samples = " + rollouts + " rollouts; use a batch that divides " + rollouts);
        }
        int per = updatesPerIteration();
        if (loop.steps % per != 0) {
            int lower = loop.steps / per * per;
            throw s.error("steps", "is " + loop.steps + " optimizer steps, not a whole number of iterations: each"
                    + " iteration is epochs x rollouts / batch = " + epochs + " x " + rollouts + " / " + loop.batch
                    + " = " + per + " steps; use " + (lower == 0 ? per : lower + " or " + (lower + per)));
        }
    }

    /** Rollouts per iteration. */
    int rollouts() {
        return prompts * samples;
    }

    /** Optimizer steps per iteration. */
    int updatesPerIteration() {
        return epochs * (rollouts() / loop.batch);
    }

    /** Iterations in the stage. */
    int iterations() {
        return loop.steps / updatesPerIteration();
    }
}
