package org.align4j.trainer.dpo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PreferenceBatch;
import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.training.EpochOrder;
import org.align4j.training.ExactMatch;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.NextTokens;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainingMethod;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Direct preference optimisation as a method of the shared loop (the seed text's DPO: the reward is implicit in the
 * policy's log-ratio to a frozen reference). Two models: {@code policy}, trained, and {@code reference}, a frozen copy
 * of the same starting model (no gradient reaches it; the loop never updates a frozen model). Each step stacks the
 * batch's chosen and rejected sequences into one {@code [2B, T]} forward pass (chosen rows first) and sums each
 * completion's token log-probabilities (completion and final {@code <eos>}; prompt and padding masked out); the
 * stage's {@link PreferenceLoss} turns the four sums into the loss and TRL's metrics ({@code rewards/chosen},
 * {@code rewards/accuracies}, ...). With {@code rpo_alpha > 0} the loss adds that times the chosen completions'
 * negative log-likelihood per token (TRL's {@code rpo_alpha}, Pang et al. 2024), logged as {@code nll_loss}.
 *
 * <p>The reference's sums are computed once over the whole data before the first step
 * ({@code reference_logps: precompute}, the default: one frozen forward pass per pair instead of one per step), or
 * in every step ({@code per-batch}). Held out: the loss and the loss's metrics on the validation pairs
 * ({@code eval_loss}, {@code eval_rewards/accuracies}, ...) and the exact match of greedy answers to their distinct
 * prompts, judged by the stage's task.
 */
final class DpoMethod implements TrainingMethod {
    private final DpoSettings cfg;
    private final ModelConfig config;
    private final AttentionKernel kernel;
    private final PreferenceLoss lossFn;
    private final Settings lossSettings;
    private final Collator collator;
    private final int padId;
    private final ExactMatch exactMatch;
    private final List<DpoPair> train;
    private final List<DpoPair> valid;
    private final EpochOrder order;
    private final Path init;
    private final Path referenceInit;

    private Placeholder<TInt32> tokens; // [2B, T]
    private Placeholder<TInt32> targets; // [2B, T]: the token after each position
    private Placeholder<TFloat32> mask; // [2B, T]: 1 where that token is one of the completion's
    private Placeholder<TFloat32> referenceFed; // [2B]: precomputed reference sums
    private Operand<TFloat32> referenceLogps; // [2B]: the reference's sums, computed in the graph
    /** With {@code rpo_alpha}: the metric of the chosen completions' negative log-likelihood per token. */
    static final String NLL_LOSS = "nll_loss";

    private LossResult result;
    private Operand<TFloat32> loss; // the preference loss, plus rpo_alpha times the chosen answers' NLL
    private Map<String, Operand<TFloat32>> metrics;
    private float[] referenceTrain; // per pair: chosen, rejected
    private float[] referenceValid;
    private long tokensPerStep;

    DpoMethod(DpoSettings cfg, ModelConfig config, AttentionKernel kernel, PreferenceLoss lossFn,
            Settings lossSettings, Collator collator, int padId, ExactMatch exactMatch, List<DpoPair> train,
            List<DpoPair> valid, long seed, Path init, Path referenceInit) {
        this.cfg = cfg;
        this.config = config;
        this.kernel = kernel;
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.collator = collator;
        this.padId = padId;
        this.exactMatch = exactMatch;
        this.train = train;
        this.valid = valid;
        this.order = new EpochOrder(train.size(), seed);
        this.init = init;
        this.referenceInit = referenceInit;
    }

    @Override
    public String name() {
        return "dpo";
    }

    @Override
    public List<ModelSpec> models() {
        return List.of(ModelSpec.trained(ModelSpec.POLICY, config, kernel).initFrom(init),
                ModelSpec.frozen(ModelSpec.REFERENCE, config, kernel).initFrom(referenceInit));
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("completion_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        referenceFed = tf.withName("reference_logps").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
        Operand<TFloat32> policy = sums(tf, models.get(ModelSpec.POLICY)); // [2B]
        referenceLogps = sums(tf, models.get(ModelSpec.REFERENCE)); // [2B]: run per step only with per-batch
        Operand<TFloat32> reference = cfg.precompute ? referenceFed : referenceLogps;
        Operand<TFloat32> counts = tf.reduceSum(mask, tf.constant(1)); // [2B]
        Operand<TFloat32> chosenCounts = half(tf, counts, 0); // [B]
        result = lossFn.compute(tf, new PreferenceBatch(half(tf, policy, 0), half(tf, policy, 1),
                half(tf, reference, 0), half(tf, reference, 1), cfg.beta, chosenCounts, half(tf, counts, 1)),
                lossSettings);
        metrics = new LinkedHashMap<>(result.metrics());
        loss = result.loss();
        if (cfg.rpoAlpha > 0) {
            // the chosen completions' negative log-likelihood per token, over the batch's chosen tokens
            Operand<TFloat32> nll = tf.math.div(tf.math.neg(tf.reduceSum(half(tf, policy, 0), tf.constant(0))),
                    tf.math.maximum(tf.reduceSum(chosenCounts, tf.constant(0)), tf.constant(1f))); // []
            loss = tf.math.add(loss, tf.math.mul(tf.constant(cfg.rpoAlpha), nll));
            metrics.put(NLL_LOSS, nll);
        }
        Objective o = Objective.minimize(loss);
        metrics.forEach(o::metric);
        return o;
    }

    /** Per row, the summed log-probability of its completion's tokens under {@code model}. */
    private Operand<TFloat32> sums(Ops tf, Transformer model) {
        Operand<TFloat32> hidden = model.hidden(tf, tokens, null); // [2B, T, d]: right padding, causal mask
        Operand<TFloat32> lp = model.tokenLogProbs(tf, hidden, targets); // [2B, T]
        return tf.reduceSum(tf.math.mul(lp, mask), tf.constant(1)); // [2B]
    }

    /** Rows {@code 0..B-1} ({@code which} 0, the chosen) or {@code B..2B-1} (1, the rejected) of {@code x [2B]}. */
    private static Operand<TFloat32> half(Ops tf, Operand<TFloat32> x, int which) {
        Operand<TFloat32> two = tf.reshape(x, tf.constant(new int[] {2, -1})); // [2, B]
        return tf.gather(two, tf.constant(which), tf.constant(0)); // [B]
    }

    @Override
    public Feeds batch(long step) {
        int[] idx = order.batch(step, cfg.loop.batch);
        List<DpoPair> pairs = new ArrayList<>(idx.length);
        for (int i : idx) {
            pairs.add(train.get(i));
        }
        Feeds f = rows(pairs, true);
        if (cfg.precompute) {
            f.floats(referenceFed, Shape.of(2L * idx.length), fed(referenceTrain, idx));
        }
        return f;
    }

    /** The reference sums of pairs {@code idx}: the chosen ones, then the rejected ones. */
    private static float[] fed(float[] perPair, int[] idx) {
        float[] out = new float[2 * idx.length];
        for (int k = 0; k < idx.length; k++) {
            out[k] = perPair[2 * idx[k]];
            out[idx.length + k] = perPair[2 * idx[k] + 1];
        }
        return out;
    }

    /** Inputs, next-token targets and the completion mask of the pairs' sequences, chosen rows first. */
    private Feeds rows(List<DpoPair> pairs, boolean training) {
        List<TokenSequence> chosen = new ArrayList<>(pairs.size());
        List<TokenSequence> rejected = new ArrayList<>(pairs.size());
        for (DpoPair p : pairs) {
            chosen.add(p.chosen);
            rejected.add(p.rejected);
        }
        TokenBatch b = collator.collatePairs(chosen, rejected, config.context() + 1, padId);
        if (b.rows() != 2 * pairs.size()) {
            throw new IllegalStateException("dpo: " + (pairs.size() - b.rows() / 2) + " pairs of a batch do not fit"
                    + " model.context + 1 = " + (config.context() + 1) + " tokens (the trainer leaves such pairs out"
                    + " before the first step)");
        }
        NextTokens n = NextTokens.of(b);
        if (training) {
            tokensPerStep = n.attended();
        }
        return new Feeds().ints(tokens, n.rows(), n.inputs()).ints(targets, n.rows(), n.targets()).floats(mask,
                n.rows(), n.mask());
    }

    @Override
    public void beforeStep(StageRun run, long step) {
        precompute(run);
    }

    /** With {@code precompute}: the reference's sums of every training and held-out pair, once. */
    private void precompute(StageRun run) {
        if (!cfg.precompute || referenceTrain != null) {
            return;
        }
        long start = System.nanoTime();
        referenceTrain = referenceSums(run.session(), train);
        referenceValid = referenceSums(run.session(), valid);
        run.message(0, String.format("dpo: the reference's log-probabilities of %,d training and %,d held-out pairs"
                + " computed in %.1f s, once", train.size(), valid.size(), (System.nanoTime() - start) / 1e9));
    }

    /** Per pair, the reference's summed log-probability of its chosen and of its rejected completion. */
    private float[] referenceSums(Session session, List<DpoPair> pairs) {
        float[] out = new float[2 * pairs.size()];
        int chunk = Math.max(1, 2 * cfg.loop.batch);
        for (int from = 0; from < pairs.size(); from += chunk) {
            List<DpoPair> part = pairs.subList(from, Math.min(pairs.size(), from + chunk));
            try (Feeds f = rows(part, false); Result r = f.feed(session.runner()).fetch(referenceLogps).run()) {
                TFloat32 s = (TFloat32) r.get(0); // [2 * part]
                for (int k = 0; k < part.size(); k++) {
                    out[2 * (from + k)] = s.getFloat(k);
                    out[2 * (from + k) + 1] = s.getFloat(part.size() + k);
                }
            }
        }
        return out;
    }

    @Override
    public long tokensPerStep() {
        return tokensPerStep;
    }

    @Override
    public double epoch(long step) {
        return order.epoch(step, cfg.loop.batch);
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean last) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (valid.isEmpty()) {
            return m;
        }
        precompute(run); // an evaluation at step 0 comes before the first step
        int batch = cfg.loop.batch;
        int count = last ? valid.size() : Math.min(valid.size(), cfg.loop.evalBatches * batch);
        List<String> names = new ArrayList<>(metrics.keySet());
        double[] sums = new double[names.size() + 1];
        for (int from = 0; from < count; from += batch) {
            int[] idx = new int[Math.min(count, from + batch) - from];
            List<DpoPair> part = new ArrayList<>(idx.length);
            for (int k = 0; k < idx.length; k++) {
                idx[k] = from + k;
                part.add(valid.get(from + k));
            }
            try (Feeds f = rows(part, false)) {
                if (cfg.precompute) {
                    f.floats(referenceFed, Shape.of(2L * idx.length), fed(referenceValid, idx));
                }
                Session.Runner runner = f.feed(run.session().runner()).fetch(loss);
                for (String name : names) {
                    runner.fetch(metrics.get(name));
                }
                try (Result r = runner.run()) {
                    for (int k = 0; k <= names.size(); k++) { // each a mean over the part: weigh by its size
                        sums[k] += ((TFloat32) r.get(k)).getFloat() * idx.length;
                    }
                }
            }
        }
        m.put(MetricNames.EVAL_LOSS, sums[0] / count);
        for (int k = 0; k < names.size(); k++) {
            m.put("eval_" + names.get(k), sums[k + 1] / count);
        }
        if (cfg.exactMatchSamples > 0) {
            exactMatch.evaluate(run, step, ModelSpec.POLICY, config, kernel, questions(cfg.exactMatchSamples), m);
        }
        return m;
    }

    /** The held-out pairs' distinct prompts, the first {@code n}, each with its chosen answer as the reference. */
    private List<ExactMatch.Question> questions(int n) {
        Set<String> seen = new LinkedHashSet<>();
        List<ExactMatch.Question> out = new ArrayList<>();
        for (DpoPair p : valid) {
            if (out.size() < n && seen.add(p.prompt)) {
                out.add(new ExactMatch.Question(p.prompt, p.promptIds, p.chosenText));
            }
        }
        return out;
    }
}
