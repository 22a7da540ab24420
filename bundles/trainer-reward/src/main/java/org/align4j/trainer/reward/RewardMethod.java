package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.LossResult;
import org.align4j.api.model.LikelihoodInputs;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.training.EpochOrder;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainingMethod;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What the four reward-model methods share: one trained model named {@code reward} (from the stage's {@code init:}),
 * sequences scored at their last token by the scalar head (plus, with {@link ModelConfig#scoreLikelihood()}, the
 * model's mean log-probability of the completion's tokens), batches in a seeded epoch order, and scoring of held-out
 * examples. With {@link ModelConfig#likelihoodReference()} a second model, {@code reference}, is a frozen copy of the
 * init model that gives the log-probabilities (written with the reward model to {@code model/reference}), and the
 * outcome score adds {@code [min, mean] @ score_head.likelihood} of the probabilities of the completion's tokens. A subclass adds its
 * family's inputs, loss and held-out metrics.
 */
abstract class RewardMethod implements TrainingMethod {
    final RewardSettings cfg;
    final ModelConfig config;
    /** The frozen reference's configuration, or null without {@link ModelConfig#likelihoodReference()}. */
    final ModelConfig reference;
    final AttentionKernel kernel;
    final Collator collator;
    final int padId;
    final Path init;
    final EpochOrder order;

    Placeholder<TInt32> tokens; // [N, T]
    Placeholder<TInt32> last; // [N]: the position each row is scored at
    Placeholder<TInt32> next; // [N, T]: the token after each position (score_likelihood)
    Placeholder<TFloat32> nextInCompletion; // [N, T]: 1 where that token is one of the completion's
    Operand<TFloat32> scores; // [N]
    Transformer model;
    Operand<TFloat32> hidden; // [N, T, d]
    /** The model whose token log-probabilities the score uses ({@code model} or the frozen reference). */
    Transformer likelihoodModel;
    Operand<TFloat32> likelihoodHidden; // [N, T, d] of likelihoodModel
    private int stepSeparator = -1; // step_credit: the token that ends each step
    private Placeholder<TInt32> creditPositions; // [N, S]: where each step ends (step_credit)
    private Placeholder<TFloat32> creditMask; // [N, S]
    private Placeholder<TFloat32> creditPrefix; // [S, S]: 1 where row <= column
    private Placeholder<TFloat32> creditTokens; // [N, S, T]: the positions that predict each step's tokens
    private long tokensPerStep;

    RewardMethod(RewardSettings cfg, ModelConfig config, ModelConfig reference, AttentionKernel kernel,
            Collator collator, int padId, Path init, int examples, long seed) {
        if ((reference != null) != config.likelihoodReference()) {
            throw new IllegalArgumentException("a reference configuration goes with likelihood_reference, only");
        }
        this.cfg = cfg;
        this.config = config;
        this.reference = reference;
        this.kernel = kernel;
        this.collator = collator;
        this.padId = padId;
        this.init = init;
        this.order = new EpochOrder(examples, seed);
    }

    @Override
    public String name() {
        return "reward";
    }

    @Override
    public List<ModelSpec> models() {
        ModelSpec reward = ModelSpec.trained(ModelSpec.REWARD, config, kernel).initFrom(init);
        if (reference == null) {
            return List.of(reward);
        }
        return List.of(reward, ModelSpec.frozen(ModelSpec.REFERENCE, reference, kernel).initFrom(init)
                .output(reward.output() + "/" + REFERENCE_FOLDER));
    }

    /** The folder under a reward model's folder that holds its frozen reference. */
    static final String REFERENCE_FOLDER = "reference";

    /** The scoring graph: the model's scalar head at each row's {@code last} position (or its step credit). */
    final void buildScores(Ops tf, StageRun.Models models) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        last = tf.withName("last").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
        model = models.get(ModelSpec.REWARD);
        hidden = model.hidden(tf, tokens, null); // [N, T, d]: right padding sits after every scored position
        if (config.scoreLikelihood()) {
            next = tf.withName("next_tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            nextInCompletion = tf.withName("next_in_completion").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, -1)));
            likelihoodModel = reference != null ? models.get(ModelSpec.REFERENCE) : model;
            likelihoodHidden = reference != null ? likelihoodModel.hidden(tf, tokens, null) : hidden; // [N, T, d]
        }
        if (config.stepCredit()) {
            scores = stepCredit(tf);
            return;
        }
        Operand<TFloat32> all = model.scalar(tf, hidden); // [N, T]
        Operand<TInt32> t = tf.gather(tf.shape(tokens), tf.constant(1), tf.constant(0)); // []
        Operand<TFloat32> pick = tf.oneHot(last, t, tf.constant(1f), tf.constant(0f)); // [N, T]
        scores = tf.reduceSum(tf.math.mul(all, pick), tf.constant(1)); // [N]
        if (config.scoreLikelihood() && reference == null) { // the model's own mean log-prob of the completion
            scores = tf.math.add(scores, model.meanLogProb(tf, hidden, next, nextInCompletion)); // [N]
        } else if (config.scoreLikelihood() && config.classes() == 0) { // the frozen copy's [min, mean] probability
            Operand<TFloat32> features = likelihoodModel.stepProbFeatures(tf, likelihoodHidden, next,
                    tf.expandDims(nextInCompletion, tf.constant(1))); // [N, 1, 2]: the completion as one step
            scores = tf.math.add(scores, tf.reshape(model.scalarLikelihood(tf, features),
                    tf.constant(new int[] {-1}))); // [N]
        } // a process model reads the likelihood per step (ProcessMethod)
    }

    /**
     * {@code score: step-credit}: the one-logit head (plus its likelihood term) at each step's end gives the step's
     * correctness logit {@code z}; the score is {@code sum_s prod_{s' <= s} sigmoid(z_s')}, the expected number of
     * steps right before the first wrong one, computed as {@code exp} of a prefix sum of {@code log sigmoid(z)}.
     */
    private Operand<TFloat32> stepCredit(Ops tf) {
        if (config.classes() != 1) {
            throw new IllegalStateException("step-credit scoring reads one logit per step, not " + config.classes());
        }
        creditPositions = tf.withName("credit_positions").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1,
                -1)));
        creditMask = tf.withName("credit_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        creditPrefix = tf.withName("credit_prefix").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1,
                -1)));
        Operand<TInt32> t = tf.gather(tf.shape(tokens), tf.constant(1), tf.constant(0)); // []
        Operand<TFloat32> at = tf.oneHot(creditPositions, t, tf.constant(1f), tf.constant(0f)); // [N, S, T]
        Operand<TFloat32> logits = tf.train.batchMatMul(at, model.classify(tf, hidden), TFloat32.class); // [N, S, 1]
        if (config.scoreLikelihood()) {
            creditTokens = tf.withName("credit_tokens").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1,
                    -1, -1)));
            logits = tf.math.add(logits, model.classifyLikelihood(tf, reference != null
                    ? likelihoodModel.stepLogOddsFeatures(tf, likelihoodHidden, next, creditTokens)
                    : model.stepLogProbFeatures(tf, hidden, next, creditTokens))); // [N, S, 1]
        }
        Operand<TFloat32> z = tf.reshape(logits, tf.shape(creditMask)); // [N, S]
        Operand<TFloat32> logRight = tf.math.mul(tf.math.neg(tf.math.softplus(tf.math.neg(z))), creditMask);
        Operand<TFloat32> allRight = tf.math.exp(tf.linalg.matMul(logRight, creditPrefix)); // [N, S]: steps 0..s
        return tf.reduceSum(tf.math.mul(allRight, creditMask), tf.constant(1)); // [N]
    }

    /** {@code score: step-credit}: the token that ends each step (set before the graph is built). */
    final void stepSeparator(int separator) {
        if ((separator >= 0) != config.stepCredit()) {
            throw new IllegalArgumentException("a step separator goes with step_credit, only");
        }
        this.stepSeparator = separator;
    }

    /** The objective of {@code result}, with the loss's metrics published at every step. */
    static Objective objective(LossResult result) {
        Objective o = Objective.minimize(result.loss());
        result.metrics().forEach(o::metric);
        return o;
    }

    /** Right-padded rows of {@code seqs} (each fits the context) with their scored positions. */
    final Feeds rows(List<TokenSequence> seqs, boolean training) {
        TokenBatch b = collator.collate(seqs, config.context(), padId);
        return feed(b, training);
    }

    final Feeds feed(TokenBatch b, boolean training) {
        int[] lastIndex = new int[b.rows()];
        long counted = 0;
        for (int r = 0; r < b.rows(); r++) {
            lastIndex[r] = b.lengths()[r] - 1;
            counted += b.lengths()[r];
        }
        if (training) {
            tokensPerStep = counted;
        }
        Feeds f = new Feeds().ints(tokens, b.rows(), b.tokens()).put(last,
                TInt32.tensorOf(Shape.of(b.rows()), DataBuffers.of(lastIndex, true, false)));
        if (next != null) { // position j predicts token j + 1; completion tokens are the loss-masked ones
            int n = b.rows();
            int t = b.length();
            float[] mask = new float[n * t];
            for (int r = 0; r < n; r++) {
                System.arraycopy(b.lossMask(), r * t + 1, mask, r * t, t - 1);
            }
            f.ints(next, n, LikelihoodInputs.nextTokens(b.tokens(), n, t)).floats(nextInCompletion, Shape.of(n, t),
                    mask);
        }
        if (creditPositions != null) {
            feedSteps(f, b);
        }
        return f;
    }

    /** step_credit: each row's steps end at the separators among its completion's (loss-masked) tokens. */
    private void feedSteps(Feeds f, TokenBatch b) {
        int n = b.rows();
        int t = b.length();
        int[] first = new int[n];
        List<int[]> ends = new ArrayList<>();
        int s = 1;
        for (int r = 0; r < n; r++) {
            first[r] = -1;
            List<Integer> at = new ArrayList<>();
            for (int j = 0; j < t; j++) {
                if (b.lossMask()[r * t + j] > 0) {
                    first[r] = first[r] < 0 ? j : first[r];
                    if (b.tokens()[r * t + j] == stepSeparator) {
                        at.add(j);
                    }
                }
            }
            ends.add(at.stream().mapToInt(Integer::intValue).toArray());
            s = Math.max(s, at.size());
        }
        int[] pos = new int[n * s];
        float[] mask = new float[n * s];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < ends.get(r).length; k++) {
                pos[r * s + k] = ends.get(r)[k];
                mask[r * s + k] = 1f;
            }
        }
        float[] prefix = new float[s * s];
        for (int row = 0; row < s; row++) {
            for (int col = row; col < s; col++) {
                prefix[row * s + col] = 1f;
            }
        }
        f.ints(creditPositions, n, pos).floats(creditMask, n, mask).floats(creditPrefix, Shape.of(s, s), prefix);
        if (creditTokens != null) {
            f.floats(creditTokens, Shape.of(n, s, t), LikelihoodInputs.stepTokens(n, s, t, first, ends));
        }
    }

    /** The reward model's scores of {@code seqs}, in order, in chunks of twice the batch. */
    final double[] score(StageRun run, List<TokenSequence> seqs) {
        double[] out = new double[seqs.size()];
        int chunk = Math.max(1, 2 * cfg.loop.batch);
        for (int from = 0; from < seqs.size(); from += chunk) {
            List<TokenSequence> part = seqs.subList(from, Math.min(seqs.size(), from + chunk));
            try (Feeds f = rows(part, false); Result r = f.feed(run.session().runner()).fetch(scores).run()) {
                TFloat32 s = (TFloat32) r.get(0);
                for (int i = 0; i < part.size(); i++) {
                    out[from + i] = s.getFloat(i);
                }
            }
        }
        return out;
    }

    /** How many held-out examples an evaluation covers: all at the end, else {@code eval.batches} batches. */
    final int evalCount(int available, boolean lastEval) {
        return lastEval ? available : Math.min(available, cfg.loop.evalBatches * cfg.loop.batch);
    }

    @Override
    public long tokensPerStep() {
        return tokensPerStep;
    }

    @Override
    public double epoch(long step) {
        return order.epoch(step, cfg.loop.batch);
    }

    /** The indices of step {@code step}'s examples. */
    final int[] indices(long step) {
        return order.batch(step, cfg.loop.batch);
    }

    /** A copy of {@code m} in insertion order (for the loop). */
    static Map<String, Double> metrics(Object... keyValues) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], ((Number) keyValues[i + 1]).doubleValue());
        }
        return m;
    }

    static <T> List<T> pick(List<T> all, int[] idx) {
        List<T> out = new ArrayList<>(idx.length);
        for (int i : idx) {
            out.add(all.get(i));
        }
        return out;
    }
}
