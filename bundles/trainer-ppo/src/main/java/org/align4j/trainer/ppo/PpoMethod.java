package org.align4j.trainer.ppo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PolicyBatch;
import org.align4j.api.loss.PolicyLoss;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.Scored;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.training.EpochOrder;
import org.align4j.training.ExactMatch;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainingMethod;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * RLHF with PPO as a method of the shared loop (Ouyang et al. 2022; the seed text's four models). {@code policy}
 * (trained, from the SFT model), {@code reference} (frozen, the same start), {@code value} (trained, from the policy's
 * folder or the one the stage names, {@code init: { value: stage-3 }}, with a fresh scalar head where the folder has
 * none), and the reward: a {@code RewardModel} service leased by name for each rollout.
 *
 * <p>An iteration is one rollout and then {@code epochs} passes of minibatch updates over it. The rollout (in
 * {@link #beforeStep} at the iteration's first step): the policy's current weights go into a generation session
 * (KV-cached sampling); {@code rollout.prompts} prompts, {@code rollout.samples} answers each; one forward pass of
 * each model gives the policy's and the reference's log-probabilities of the generated tokens (logits divided by the
 * sampling temperature, as the sampler drew them) and the value model's predictions; the reward model scores the
 * texts; per token the reward is {@code -beta * KL} plus the score at the last generated token (and, with
 * {@code dense:}, each step's score at its last token); GAE gives advantages and value targets; advantages are
 * whitened over the batch. Each update feeds {@code batch} rollouts to the stage's {@link PolicyLoss} (clipped
 * surrogate and clipped value loss) minus {@code entropy_coef} times the policy's entropy.
 *
 * <p>The reward model is read once per rollout: a new version installed (or the stage re-targeted) while an
 * iteration's updates run scores the next rollout. With no reward model registered the stage waits at the rollout
 * boundary (optionally up to {@code reward_model.timeout}, then stops with a checkpoint). The rollout in progress, the
 * KL coefficient, the reward model's name and version and the monitor's history are in every checkpoint.
 */
final class PpoMethod implements TrainingMethod, AutoCloseable {
    /** Label of every step and evaluation event: the reward model (name and version) that scored the rollouts. */
    static final String REWARD_MODEL = "reward_model";

    /** A prompt: its text (what reward models and the verifier read), its ids, and the data's answer or null. */
    static final class Prompt {
        final String text;
        final int[] ids;
        final String reference;

        Prompt(String text, int[] ids, String reference) {
            this.text = text;
            this.ids = ids;
            this.reference = reference;
        }
    }

    /** The reward model the stage scores with: a name and an optional pinned version. */
    static final class Target {
        final String name;
        final Optional<String> version;

        Target(String name, Optional<String> version) {
            this.name = name;
            this.version = version;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Target && ((Target) o).name.equals(name) && ((Target) o).version.equals(version);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + version.hashCode();
        }

        @Override
        public String toString() {
            return name + version.map(v -> " " + v).orElse("");
        }
    }

    private final PpoSettings cfg;
    private final ModelConfig config;
    private final ModelConfig valueConfig;
    private final AttentionKernel kernel;
    private final PolicyLoss lossFn;
    private final Settings lossSettings;
    private final Generator generator;
    private final Tokenizer tokenizer;
    private final RewardModels rewards;
    private final Supplier<Target> target;
    private final BooleanSupplier stopping;
    private final ExactMatch exactMatch;
    private final List<Prompt> train;
    private final List<Prompt> valid;
    private final long seed;
    private final Path init;
    private final Path referenceInit;
    private final Path valueInit;
    private final EpochOrder order;

    private Placeholder<TInt32> inputs; // [N, T]
    private Placeholder<TInt32> targets; // [N, T]
    private Placeholder<TFloat32> mask; // [N, T]
    private Placeholder<TFloat32> oldLogProbs; // [N, T]
    private Placeholder<TFloat32> oldValues; // [N, T]
    private Placeholder<TFloat32> advantages; // [N, T]
    private Placeholder<TFloat32> returns; // [N, T]
    private Operand<TFloat32> policyGate; // []: 1 trains the policy, 0 holds its gradient at 0 (value warm-up)
    private Operand<TFloat32> policyLogProbs; // [N, T]
    private Operand<TFloat32> referenceLogProbs; // [N, T]
    private Operand<TFloat32> values; // [N, T]
    private final List<String> averaged = new ArrayList<>();

    private GenerationSession generation;
    private RolloutBuffer buffer;
    private double klCoef;
    private Target current;
    private RewardModels.Lease lease;
    private RewardModels.Lease judgeLease;
    private boolean judgeMissingTold;
    private RewardModelInfo scoredBy;
    private final HackingMonitor monitor;
    private Map<String, Double> iterationMetrics = new LinkedHashMap<>();
    private final Map<String, double[]> sums = new LinkedHashMap<>(); // name -> {sum, count} over the iteration
    private long tokensPerStep;
    private long updatesStarted; // System.nanoTime() when the iteration's updates began, 0 before
    private final Map<String, Double> lastTimes = new LinkedHashMap<>();

    PpoMethod(PpoSettings cfg, ModelConfig config, ModelConfig valueConfig, AttentionKernel kernel, PolicyLoss lossFn,
            Settings lossSettings, Generator generator, Tokenizer tokenizer, RewardModels rewards,
            Supplier<Target> target, BooleanSupplier stopping, ExactMatch exactMatch, List<Prompt> train,
            List<Prompt> valid, long seed, Path init, Path referenceInit, Path valueInit) {
        this.cfg = cfg;
        this.config = config;
        this.valueConfig = valueConfig;
        this.kernel = kernel;
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.rewards = rewards;
        this.target = target;
        this.stopping = stopping;
        this.exactMatch = exactMatch;
        this.train = train;
        this.valid = valid;
        this.seed = seed;
        this.init = init;
        this.referenceInit = referenceInit;
        this.valueInit = valueInit;
        this.order = new EpochOrder(train.size(), seed);
        this.klCoef = cfg.klCoef;
        this.monitor = new HackingMonitor(cfg.window, cfg.threshold);
    }

    @Override
    public String name() {
        return "ppo";
    }

    @Override
    public List<ModelSpec> models() {
        return List.of(ModelSpec.trained(ModelSpec.POLICY, config, kernel).initFrom(init),
                ModelSpec.frozen(ModelSpec.REFERENCE, config, kernel).initFrom(referenceInit),
                ModelSpec.trained(ModelSpec.VALUE, valueConfig, kernel).initFrom(valueInit).output("value"));
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        inputs = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = floats(tf, "generated_mask");
        oldLogProbs = floats(tf, "old_logprobs");
        oldValues = floats(tf, "old_values");
        advantages = floats(tf, "advantages");
        returns = floats(tf, "returns");
        float invTemperature = (float) (1 / cfg.temperature);
        Transformer policy = models.get(ModelSpec.POLICY);
        policyGate = tf.withName("policy_gate").placeholderWithDefault(tf.constant(1f), Shape.scalar());
        Operand<TFloat32> raw = tf.math.mul(policy.lmLogits(tf, policy.hidden(tf, inputs, null)),
                tf.constant(invTemperature)); // [N, T, V]: the distribution the sampler drew from
        // the same values; the gradient reaches the policy times the gate
        Operand<TFloat32> logits = tf.math.add(tf.math.mul(policyGate, raw), tf.math.mul(tf.math.sub(
                tf.constant(1f), policyGate), tf.stopGradient(raw))); // [N, T, V]
        policyLogProbs = generator.tokenLogProbs(tf, logits, targets); // [N, T]
        Transformer reference = models.get(ModelSpec.REFERENCE);
        referenceLogProbs = generator.tokenLogProbs(tf, tf.math.mul(reference.lmLogits(tf, reference.hidden(tf,
                inputs, null)), tf.constant(invTemperature)), targets); // [N, T]
        Transformer value = models.get(ModelSpec.VALUE);
        values = value.scalar(tf, value.hidden(tf, inputs, null)); // [N, T]: V(state before the token at t + 1)
        LossResult result = lossFn.compute(tf, new PolicyBatch(policyLogProbs, oldLogProbs, advantages, values,
                oldValues, returns, mask), lossSettings);
        Operand<TFloat32> entropy = maskedMean(tf, entropy(tf, logits), mask); // []
        Operand<TFloat32> loss = result.loss();
        if (cfg.entropyCoef > 0) {
            loss = tf.math.sub(loss, tf.math.mul(tf.constant((float) cfg.entropyCoef), entropy));
        }
        Objective o = Objective.minimize(loss);
        result.metrics().forEach(o::metric);
        o.metric("policy/entropy", entropy);
        averaged.clear();
        averaged.addAll(result.metrics().keySet());
        averaged.add("policy/entropy");
        return o;
    }

    private static Placeholder<TFloat32> floats(Ops tf, String name) {
        return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
    }

    /** The entropy of each position's next-token distribution, {@code -sum_v p log p}. */
    private static Operand<TFloat32> entropy(Ops tf, Operand<TFloat32> logits) {
        Operand<TInt32> shape = tf.shape(logits); // [3]
        Operand<TFloat32> rows = tf.reshape(logits, tf.stack(List.of(tf.constant(-1), tf.gather(shape,
                tf.constant(2), tf.constant(0))))); // [N*T, V]: LogSoftmax's gradient is right on rank 2 only
        Operand<TFloat32> logp = tf.nn.logSoftmax(rows); // [N*T, V]
        Operand<TFloat32> h = tf.math.neg(tf.reduceSum(tf.math.mul(tf.math.exp(logp), logp), tf.constant(1))); // [N*T]
        return tf.reshape(h, tf.gather(shape, tf.constant(new int[] {0, 1}), tf.constant(0))); // [N, T]
    }

    private static Operand<TFloat32> maskedMean(Ops tf, Operand<TFloat32> x, Operand<TFloat32> m) {
        return tf.math.div(tf.reduceSum(tf.math.mul(x, m), tf.constant(new int[] {0, 1})),
                tf.math.maximum(tf.reduceSum(m, tf.constant(new int[] {0, 1})), tf.constant(1f)));
    }

    // ---- the rollout ----

    @Override
    public void beforeStep(StageRun run, long step) throws Exception {
        int per = cfg.updatesPerIteration();
        int iteration = (int) (step / per);
        if (buffer != null && buffer.iteration == iteration) {
            return;
        }
        if (updatesStarted != 0) {
            lastTimes.put("time/updates", (System.nanoTime() - updatesStarted) / 1e9);
        }
        rollout(run, step, iteration);
        updatesStarted = System.nanoTime();
    }

    private void rollout(StageRun run, long step, int iteration) throws Exception {
        Map<String, Double> times = new LinkedHashMap<>(lastTimes);
        // 1. sample
        long t0 = System.nanoTime();
        if (generation == null) {
            generation = generator.open(config, kernel, run.models().get(ModelSpec.POLICY).read(run.session()));
        } else {
            generation.update(run.models().get(ModelSpec.POLICY).read(run.session()));
        }
        int[] idx = order.batch(iteration, cfg.prompts);
        List<int[]> promptIds = new ArrayList<>(idx.length);
        int longest = 0;
        for (int i : idx) {
            promptIds.add(train.get(i).ids);
            longest = Math.max(longest, train.get(i).ids.length);
        }
        int room = Math.max(1, Math.min(cfg.maxTokens, config.context() - longest));
        GenerationSettings gs = GenerationSettings.builder().temperature(cfg.temperature).topK(cfg.topK)
                .maxNewTokens(room).samples(cfg.samples).seed(seed * 1_000_003L + iteration)
                .stopTokens(tokenizer.eosId()).build();
        List<List<Completion>> out = generation.generate(promptIds, gs);
        int n = cfg.rollouts();
        Prompt[] prompt = new Prompt[n];
        int[][] completion = new int[n][]; // generated tokens without end-of-text
        float[][] sampled = new float[n][]; // the sampler's log-probabilities of them (untempered)
        boolean[] finished = new boolean[n];
        int width = 1;
        for (int p = 0, r = 0; p < idx.length; p++) {
            for (Completion c : out.get(p)) {
                prompt[r] = train.get(idx[p]);
                completion[r] = c.tokens();
                sampled[r] = c.logProbs();
                finished[r] = c.finishReason() == Completion.FinishReason.STOP_TOKEN;
                width = Math.max(width, prompt[r].ids.length + completion[r].length + (finished[r] ? 1 : 0) - 1);
                r++;
            }
        }
        times.put("time/generation", (System.nanoTime() - t0) / 1e9);

        // 2. the models' view of the rollouts
        RolloutBuffer b = new RolloutBuffer(iteration, n, width);
        int[] start = new int[n]; // position of each row's first generated target
        int[] count = new int[n]; // generated tokens (with end-of-text when the policy stopped)
        for (int r = 0; r < n; r++) {
            int[] seq = concat(prompt[r].ids, completion[r], finished[r] ? tokenizer.eosId() : -1);
            start[r] = prompt[r].ids.length - 1;
            count[r] = seq.length - prompt[r].ids.length;
            for (int t = 0; t < seq.length - 1; t++) {
                b.inputs[r * width + t] = seq[t];
                b.targets[r * width + t] = seq[t + 1];
                b.mask[r * width + t] = t >= start[r] ? 1f : 0f;
            }
        }
        float[][] logp = new float[n][];
        float[][] refLogp = new float[n][];
        float[][] vals = new float[n][];
        times.put("time/policy_logprobs", forward(run, b, policyLogProbs, start, count, logp));
        times.put("time/reference_logprobs", forward(run, b, referenceLogProbs, start, count, refLogp));
        times.put("time/value", forward(run, b, values, start, count, vals));

        // 3. scores (the reward model is read here, once per rollout)
        long t1 = System.nanoTime();
        List<PromptCompletion> texts = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            texts.add(new PromptCompletion(prompt[r].text, tokenizer.decode(completion[r])));
        }
        Scored scored = score(run, step, iteration, texts);
        if (scored == null) {
            return; // stopping: the loop checkpoints at this step and the next run makes this rollout again
        }
        float[] scores = scored.scores().scores();
        List<float[]> stepScores = scored.scores().steps().orElse(null);
        if (cfg.dense && stepScores == null && iteration == 0) {
            run.message(step, "ppo: warning: dense: is set but reward model " + describe(scored.model())
                    + " gives no step scores (it is not a process reward model); the reward is the outcome score only");
        }
        float[] judged = judge(run, step, texts);
        times.put("time/scoring", (System.nanoTime() - t1) / 1e9);

        // 4. rewards, advantages, value targets
        long t2 = System.nanoTime();
        List<double[]> adv = new ArrayList<>(n);
        List<double[]> ret = new ArrayList<>(n);
        double klSum = 0;
        double nonScore = 0;
        double scoreSum = 0;
        double entropySum = 0;
        double lengthSum = 0;
        double stepScoreSum = 0;
        int stepCount = 0;
        int eos = 0;
        for (int r = 0; r < n; r++) {
            double[] kl = Advantages.kl(logp[r], refLogp[r], cfg.estimator);
            double score = scores[r] - (finished[r] ? 0 : cfg.missingEosPenalty);
            int[] ends = new int[0];
            float[] ss = new float[0];
            if (cfg.dense && stepScores != null) {
                int[] lineEnds = StepEnds.of(completion[r], tokenizer::decode);
                int m = Math.min(lineEnds.length, stepScores.get(r).length);
                ends = Arrays.copyOf(lineEnds, m);
                ss = Arrays.copyOf(stepScores.get(r), m);
                for (float x : ss) {
                    stepScoreSum += x;
                    stepCount++;
                }
            }
            double[] rewardsOf = Advantages.rewards(kl, klCoef, score, cfg.dense ? cfg.denseOutcome : 1, ends, ss,
                    cfg.denseSteps, cfg.denseBaseline);
            double[][] g = Advantages.gae(rewardsOf, vals[r], cfg.gamma, cfg.lambda);
            adv.add(g[0]);
            ret.add(g[1]);
            for (int k = 0; k < count[r]; k++) {
                klSum += kl[k];
                nonScore += -klCoef * kl[k];
                entropySum += -logp[r][k];
            }
            scoreSum += scores[r];
            lengthSum += count[r];
            eos += finished[r] ? 1 : 0;
        }
        Advantages.whiten(adv);
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < count[r]; k++) {
                int at = r * width + start[r] + k;
                b.oldLogProbs[at] = logp[r][k];
                b.oldValues[at] = vals[r][k];
                b.advantages[at] = (float) adv.get(r)[k];
                b.returns[at] = (float) ret.get(r)[k];
            }
        }
        times.put("time/advantages", (System.nanoTime() - t2) / 1e9);

        Map<String, Double> m = new LinkedHashMap<>();
        m.put("objective/kl", klSum / n);
        m.put("objective/entropy", entropySum / n);
        m.put("objective/non_score_reward", nonScore / n);
        m.put("objective/rlhf_reward", scoreSum / n + nonScore / n);
        m.put("objective/scores", scoreSum / n);
        m.put("objective/kl_coef", klCoef);
        m.put("val/num_eos_tokens", (double) eos);
        m.put("monitor/length", lengthSum / n);
        if (stepCount > 0) {
            m.put("objective/step_scores", stepScoreSum / stepCount);
        }
        if (cfg.temperature == 1.0) {
            // the sampler's and the training graph's log-probabilities of the same tokens: the same policy, so
            // they differ by float rounding only; a larger gap means the rollouts are off-policy
            double gap = 0;
            long tokens = 0;
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < completion[r].length; k++) {
                    gap = Math.max(gap, Math.abs(sampled[r][k] - logp[r][k]));
                    tokens++;
                }
            }
            if (tokens > 0) {
                m.put("val/logprob_gap_max", gap);
            }
        }
        if (!Double.isNaN(cfg.klTarget)) {
            klCoef = Advantages.adaptKl(klCoef, klSum / n, cfg.klTarget, n, cfg.klHorizon);
        }
        boolean fired = false;
        if (judged != null) {
            double j = 0;
            for (float x : judged) {
                j += x;
            }
            m.put("monitor/judge_scores", j / n);
            fired = monitor.add(scoreSum / n, j / n);
            m.put("monitor/reward_trend", monitor.trend(0));
            m.put("monitor/judge_trend", monitor.trend(1));
            m.put("monitor/reward_trend_t", clampT(monitor.significance(0)));
            m.put("monitor/judge_trend_t", clampT(monitor.significance(1)));
            m.put("monitor/hacking", fired ? 1.0 : 0.0);
        }
        m.putAll(times);
        iterationMetrics = m;
        sums.clear();
        lastTimes.clear();
        buffer = b;
        run.message(step, String.format(Locale.ROOT, "ppo: iteration %d/%d%s: score %.3f, kl %.3f (coef %.4g), length"
                + " %.1f, %d of %d ended%s; reward model %s; %.1f s sampling, %.1f s scoring", iteration + 1,
                cfg.iterations(), iteration < cfg.valueWarmup ? " (value warm-up: the policy is not trained)" : "",
                scoreSum / n, klSum / n, m.get("objective/kl_coef"), lengthSum / n, eos, n,
                judged == null ? "" : String.format(Locale.ROOT, "; judge %.3f", m.get("monitor/judge_scores")),
                describe(scoredBy), times.get("time/generation"), times.get("time/scoring")));
        if (fired) {
            String what = String.format(Locale.ROOT, "possible reward hacking: over the last %d iterations the reward"
                    + " model's mean score rose (trend %+.4f per iteration, t %.1f) while judge %s's fell (%+.4f, t"
                    + " %.1f); mean length %.1f tokens, KL %.3f. Look at the samples; lower the learning rate or raise"
                    + " kl.coef, or train the reward model on the policy's own answers", cfg.window, monitor.trend(0),
                    clampT(monitor.significance(0)), cfg.judge, monitor.trend(1), clampT(monitor.significance(1)),
                    lengthSum / n, klSum / n);
            run.context().publish(run.context().event(TrainingEvent.Kind.WARNING).step(step).message(what)
                    .labels(labels()).build());
            if (cfg.pauseOnHacking) {
                monitor.reset(); // a run resumed after this pause watches afresh
                run.requestStop("paused by the reward-hacking monitor (monitor.pause)");
            }
        }
    }

    /** A trend's t statistic for the metrics, which must stay finite (a noiseless line gives infinity). */
    private static double clampT(double t) {
        return Math.max(-1e6, Math.min(1e6, t));
    }

    /** Runs {@code what} over the buffer in chunks and keeps each row's generated positions; returns seconds. */
    private double forward(StageRun run, RolloutBuffer b, Operand<TFloat32> what, int[] start, int[] count,
            float[][] into) {
        long t = System.nanoTime();
        int chunk = cfg.loop.batch;
        for (int from = 0; from < b.rows; from += chunk) {
            int[] rows = new int[Math.min(b.rows, from + chunk) - from];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = from + i;
            }
            try (Feeds f = new Feeds().ints(inputs, rows.length, b.rows(b.inputs, rows)).ints(targets, rows.length,
                    b.rows(b.targets, rows)); Result res = f.feed(run.session().runner()).fetch(what).run()) {
                TFloat32 v = (TFloat32) res.get(0); // [rows, T]
                for (int i = 0; i < rows.length; i++) {
                    int r = rows[i];
                    into[r] = new float[count[r]];
                    for (int k = 0; k < count[r]; k++) {
                        into[r][k] = v.getFloat(i, start[r] + k);
                    }
                }
            }
        }
        return (System.nanoTime() - t) / 1e9;
    }

    /**
     * The rollouts' scores from the reward model the stage targets now, waiting while none is registered; {@code null}
     * when the stage is to stop instead (asked to, or the wait ran past {@code reward_model.timeout}).
     */
    private Scored score(StageRun run, long step, int iteration, List<PromptCompletion> texts) throws Exception {
        long waitStart = 0;
        while (true) {
            Target now = target.get();
            if (current != null && !now.equals(current)) {
                run.context().publish(run.context().event(TrainingEvent.Kind.SWAP).step(step).message("reward model"
                        + " re-targeted from " + current + " to " + now + " (the stage's configuration was updated)"
                        + "; it scores iteration " + (iteration + 1) + " on").build());
                lease = null;
            }
            current = now;
            if (lease == null) {
                try {
                    lease = rewards.lease(now.name, now.version);
                } catch (RewardModelException none) {
                    lease = null;
                }
            }
            if (lease != null && lease.current().isPresent()) {
                try {
                    Scored s = lease.score(texts);
                    swapped(run, step, iteration, s.model());
                    return s;
                } catch (RewardModelException e) {
                    if (lease.current().isPresent()) {
                        throw new IllegalStateException("ppo: reward model " + now + " failed to score iteration "
                                + (iteration + 1) + ": " + e.getMessage(), e);
                    } // it went away meanwhile: wait for one
                }
            }
            if (waitStart == 0) {
                waitStart = System.nanoTime();
                run.context().publish(run.context().event(TrainingEvent.Kind.WARNING).step(step).message("paused at"
                        + " step " + step + ": no reward model " + now + " is registered (registered: "
                        + rewards.models(null) + "); waiting for one to be installed"
                        + (cfg.rewardTimeout >= 0 ? " for up to " + (long) cfg.rewardTimeout + " s" : "")
                        + "; the policy, value model and optimizer state are kept").build());
            }
            if (stopping.getAsBoolean()) {
                run.requestStop("asked to stop while waiting for reward model " + now);
                return null;
            }
            double waited = (System.nanoTime() - waitStart) / 1e9;
            if (cfg.rewardTimeout >= 0 && waited >= cfg.rewardTimeout) {
                run.requestStop("no reward model " + now + " was registered within reward_model.timeout = "
                        + (long) cfg.rewardTimeout + " s");
                return null;
            }
            Thread.sleep(100);
        }
    }

    /** Logs a change of the service that scores (a new version installed, the old one removed, a re-target). */
    private void swapped(StageRun run, long step, int iteration, RewardModelInfo by) {
        if (scoredBy != null && !sameService(scoredBy, by)) {
            run.context().publish(run.context().event(TrainingEvent.Kind.SWAP).step(step).message("reward model "
                    + describe(scoredBy) + " -> " + describe(by) + " at the rollout of iteration " + (iteration + 1)
                    + " (step " + step + ")").build());
        } else if (scoredBy == null) {
            run.message(step, "ppo: rollouts scored by reward model " + describe(by));
        }
        scoredBy = by;
    }

    /** The same service; one read back from a checkpoint (no service id) is the same when its bundle is. */
    private static boolean sameService(RewardModelInfo a, RewardModelInfo b) {
        return a.name().equals(b.name()) && a.version().equals(b.version()) && (a.serviceId() < 0 || b.serviceId() < 0
                ? a.bundle().equals(b.bundle()) : a.serviceId() == b.serviceId());
    }

    private static String describe(RewardModelInfo m) {
        return m == null ? "(none yet)" : m.name() + (m.version().isEmpty() ? "" : " " + m.version()) + " ["
                + m.bundle() + "]";
    }

    /** The judge's scores of the same rollouts, or {@code null} without a monitor or while its judge is missing. */
    private float[] judge(StageRun run, long step, List<PromptCompletion> texts) throws InterruptedException {
        if (cfg.judge == null) {
            return null;
        }
        try {
            if (judgeLease == null) {
                judgeLease = rewards.lease(cfg.judge, Optional.empty());
            }
            float[] s = judgeLease.score(texts).scores().scores();
            judgeMissingTold = false;
            return s;
        } catch (RewardModelException e) {
            if (!judgeMissingTold) {
                run.context().publish(run.context().event(TrainingEvent.Kind.WARNING).step(step).message("the"
                        + " reward-hacking monitor has no judge: " + e.getMessage()).build());
                judgeMissingTold = true;
            }
            return null;
        }
    }

    private static int[] concat(int[] a, int[] b, int last) {
        int[] out = Arrays.copyOf(a, a.length + b.length + (last >= 0 ? 1 : 0));
        System.arraycopy(b, 0, out, a.length, b.length);
        if (last >= 0) {
            out[out.length - 1] = last;
        }
        return out;
    }

    // ---- the updates ----

    @Override
    public Feeds batch(long step) {
        int per = cfg.updatesPerIteration();
        int perEpoch = cfg.rollouts() / cfg.loop.batch;
        int u = (int) (step % per);
        int epoch = u / perEpoch;
        int j = u % perEpoch;
        int[] perm = permutation(buffer.rows, buffer.iteration, epoch);
        int[] rows = Arrays.copyOfRange(perm, j * cfg.loop.batch, (j + 1) * cfg.loop.batch);
        RolloutBuffer b = buffer;
        tokensPerStep = (long) rows.length * b.width;
        return new Feeds().ints(inputs, rows.length, b.rows(b.inputs, rows))
                .ints(targets, rows.length, b.rows(b.targets, rows)).floats(mask, rows.length, b.rows(b.mask, rows))
                .floats(oldLogProbs, rows.length, b.rows(b.oldLogProbs, rows))
                .floats(oldValues, rows.length, b.rows(b.oldValues, rows))
                .floats(advantages, rows.length, b.rows(b.advantages, rows))
                .floats(returns, rows.length, b.rows(b.returns, rows))
                .scalar(policyGate, b.iteration < cfg.valueWarmup ? 0f : 1f);
    }

    /** The order of the rollouts in an epoch of an iteration: a function of (seed, iteration, epoch). */
    private int[] permutation(int n, int iteration, int epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Random r = new Random(seed * 7_919L + iteration * 104_729L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int k = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[k];
            p[k] = t;
        }
        return p;
    }

    @Override
    public long tokensPerStep() {
        return tokensPerStep;
    }

    @Override
    public void afterStep(long step, Map<String, Double> fetched) {
        for (String k : averaged) {
            Double v = fetched.get(k);
            if (v != null) {
                double[] s = sums.computeIfAbsent(k, x -> new double[2]);
                s[0] += v;
                s[1]++;
            }
        }
    }

    /** The iteration's rollout metrics, and TRL's {@code *_avg} of the loss's metrics over its updates so far. */
    @Override
    public Map<String, Double> stepMetrics(Map<String, Double> fetched) {
        Map<String, Double> m = new LinkedHashMap<>(iterationMetrics);
        sums.forEach((k, s) -> {
            if (!k.equals("val/ratio")) {
                m.put(k + "_avg", s[0] / Math.max(1, s[1]));
            }
        });
        m.put("iteration", (double) (buffer == null ? 0 : buffer.iteration + 1));
        return m;
    }

    @Override
    public Map<String, String> labels() {
        return scoredBy == null ? Map.of() : Map.of(REWARD_MODEL, scoredBy.name()
                + (scoredBy.version().isEmpty() ? "" : " " + scoredBy.version()));
    }

    // ---- evaluation ----

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean last) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (valid.isEmpty() || cfg.exactMatchSamples == 0) {
            return m;
        }
        List<ExactMatch.Question> questions = new ArrayList<>();
        for (Prompt p : valid.subList(0, Math.min(valid.size(), cfg.exactMatchSamples))) {
            questions.add(new ExactMatch.Question(p.text, p.ids, p.reference));
        }
        exactMatch.evaluate(run, step, ModelSpec.POLICY, config, kernel, questions, m);
        return m;
    }

    // ---- checkpoints ----

    @Override
    public Map<String, String> state() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("kl_coef", Double.toString(klCoef));
        s.put("monitor", monitor.save());
        if (scoredBy != null) {
            s.put(REWARD_MODEL, scoredBy.name() + (scoredBy.version().isEmpty() ? "" : " " + scoredBy.version()));
            s.put("reward_model_bundle", scoredBy.bundle());
        }
        s.put("iteration_metrics", encode(iterationMetrics));
        Map<String, Double> partial = new LinkedHashMap<>();
        sums.forEach((k, v) -> {
            partial.put(k + "#sum", v[0]);
            partial.put(k + "#count", v[1]);
        });
        s.put("iteration_sums", encode(partial));
        return s;
    }

    @Override
    public void restore(Map<String, String> state) {
        if (state.containsKey("kl_coef")) {
            klCoef = Double.parseDouble(state.get("kl_coef"));
        }
        monitor.load(state.get("monitor"));
        iterationMetrics = decode(state.get("iteration_metrics"));
        sums.clear();
        decode(state.get("iteration_sums")).forEach((k, v) -> {
            int at = k.lastIndexOf('#');
            double[] s = sums.computeIfAbsent(k.substring(0, at), x -> new double[2]);
            s[k.endsWith("#sum") ? 0 : 1] = v;
        });
        String rm = state.get(REWARD_MODEL);
        if (rm != null) { // what scored the rollouts being trained on; the next rollout leases afresh
            int sp = rm.indexOf(' ');
            scoredBy = new RewardModelInfo(sp < 0 ? rm : rm.substring(0, sp), sp < 0 ? "" : rm.substring(sp + 1), "",
                    state.getOrDefault("reward_model_bundle", ""), -1);
        }
    }

    @Override
    public Map<String, TensorData> stateTensors() {
        return buffer == null ? Map.of() : buffer.save();
    }

    @Override
    public void restoreTensors(Map<String, TensorData> tensors) {
        buffer = RolloutBuffer.load(tensors);
    }

    private static String encode(Map<String, Double> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ";").append(k).append('=').append(v));
        return b.toString();
    }

    private static Map<String, Double> decode(String s) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (s == null || s.isEmpty()) {
            return m;
        }
        for (String kv : s.split(";")) {
            int eq = kv.lastIndexOf('=');
            m.put(kv.substring(0, eq), Double.parseDouble(kv.substring(eq + 1)));
        }
        return m;
    }

    @Override
    public List<String> finish(StageRun run) {
        close();
        return List.of();
    }

    @Override
    public void close() {
        if (generation != null) {
            generation.close();
            generation = null;
        }
    }
}
