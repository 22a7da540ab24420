package org.align4j.api.model;

import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A decoder-only Transformer whose variables live in one graph. The forward methods may be called more than once
 * (e.g. for a training and an evaluation batch, or for chosen and rejected completions): every call shares the same
 * variables. Shapes: {@code B} batch, {@code T <= context} positions, {@code d} model width, {@code V} vocabulary.
 */
@ProviderType
public interface Transformer {

    ModelConfig config();

    /**
     * The final hidden states (after the final norm in pre-norm form).
     *
     * @param tokens {@code [B, T]} int32 token ids
     * @param keyMask {@code [B, T]} float, 1 for real tokens and 0 for padding, or {@code null} when none is padding
     * @return {@code [B, T, d]}
     */
    Operand<TFloat32> hidden(Ops tf, Operand<TInt32> tokens, Operand<TFloat32> keyMask);

    /**
     * The final hidden states with each row's tokens at positions of its own, e.g. a left-padded batch. Gives the same
     * values as {@link #hidden(Ops, Operand, Operand)} when every row's positions are {@code 0 .. T-1}.
     *
     * @param tokens {@code [B, T]} int32 token ids
     * @param positions {@code [B, T]} int32 absolute positions in {@code [0, context)} (padding: any such value), or
     *            {@code null} for {@code 0 .. T-1}
     * @param keyMask {@code [B, T]} float, 1 for real tokens and 0 for padding, or {@code null}
     * @return {@code [B, T, d]}
     * @since 1.1
     */
    Operand<TFloat32> hidden(Ops tf, Operand<TInt32> tokens, Operand<TInt32> positions, Operand<TFloat32> keyMask);

    /**
     * The forward pass of new tokens after cached ones (incremental decoding). The cache's tensors are typically
     * fetched from one session run and fed back, unchanged, into placeholders of shape {@code [-1, Hkv, -1, D]} on
     * the next; the slot dimension {@code P} may be 0 (the first step, the prompt).
     *
     * @param tokens {@code [B, Tn]} int32 new token ids
     * @param positions {@code [B, Tn]} int32 their absolute positions in {@code [0, context)}, per row
     * @param keyMask {@code [B, P + Tn]} float over the cached and the new slots, 1 real, 0 padding; or {@code null}
     * @param past per block {@code [B, Hkv, P, D]}; {@link #keyValueHeads()} heads of {@link ModelConfig#headSize()}
     * @return the hidden states {@code [B, Tn, d]} and the extended cache {@code [B, Hkv, P + Tn, D]} per block
     * @since 1.1
     */
    CachedForward hiddenCached(Ops tf, Operand<TInt32> tokens, Operand<TInt32> positions, Operand<TFloat32> keyMask,
            KeyValueCache past);

    /**
     * The number of key/value heads a {@link KeyValueCache} of this model holds.
     *
     * @since 1.1
     */
    default int keyValueHeads() {
        return config().heads();
    }

    /**
     * The language-model head: {@code hidden @ W_out} (the token embedding, transposed, when tied).
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T, V]} logits of the next token
     */
    Operand<TFloat32> lmLogits(Ops tf, Operand<TFloat32> hidden);

    /**
     * The log-probability the language-model head gives each position's next token:
     * {@code out[b, t] = log softmax(lmLogits(hidden)[b, t])[next[b, t]]}, in the stable log-softmax form. A reward
     * model with {@link ModelConfig#scoreLikelihood()} averages it over a completion's tokens ({@link #meanLogProb}; the
     * position before each token holds that token's probability).
     *
     * @param hidden {@code [B, T, d]}
     * @param next {@code [B, T]} the token each position is to predict (any id at positions that are not read)
     * @return {@code [B, T]}
     * @since 1.2
     */
    default Operand<TFloat32> tokenLogProbs(Ops tf, Operand<TFloat32> hidden, Operand<TInt32> next) {
        Operand<TFloat32> logits = lmLogits(tf, hidden); // [B, T, V]
        // LogSoftmax on rows: TensorFlow's C++ gradient of LogSoftmax sums over axis 1, right only for rank 2 (on
        // [B, T, V] it would mix the positions of a row)
        Operand<TFloat32> logp = tf.reshape(tf.nn.logSoftmax(tf.reshape(logits, tf.constant(new int[] {-1,
                config().vocabSize()}))), tf.shape(logits)); // [B, T, V]
        Operand<TFloat32> pick = tf.oneHot(next, tf.constant(config().vocabSize()), tf.constant(1f),
                tf.constant(0f)); // [B, T, V]
        return tf.reduceSum(tf.math.mul(logp, pick), tf.constant(2)); // [B, T]
    }

    /**
     * A reward model's likelihood term ({@link ModelConfig#scoreLikelihood()}): per row, the mean of
     * {@link #tokenLogProbs} over the positions where {@code mask} is 1 (0 for a row without any).
     *
     * @param mask {@code [B, T]}: 1 at each position whose next token is one of the completion's
     * @return {@code [B]}
     * @since 1.2
     */
    default Operand<TFloat32> meanLogProb(Ops tf, Operand<TFloat32> hidden, Operand<TInt32> next,
            Operand<TFloat32> mask) {
        Operand<TFloat32> lp = tokenLogProbs(tf, hidden, next); // [B, T]
        Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(mask, tf.constant(1)), tf.constant(1f)); // [B]
        return tf.math.div(tf.reduceSum(tf.math.mul(lp, mask), tf.constant(1)), count); // [B]
    }

    /**
     * The scalar head used by reward and value models: {@code hidden @ w + b}.
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T]}
     */
    Operand<TFloat32> scalar(Ops tf, Operand<TFloat32> hidden);

    /**
     * The classification head: {@code hidden @ W + b} with {@code W} {@code [d, C]} and {@code b} {@code [C]},
     * {@code C = config().classes()}: unnormalised logits at every position (a loss picks the positions it scores,
     * e.g. a process reward model's step separators, and applies the softmax). Its parameters are
     * {@code cls_head.weight} and {@code cls_head.bias}, trained, checkpointed and saved like every other parameter.
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T, C]}
     * @throws IllegalStateException when the model has no classification head ({@code classes} is 0)
     * @since 1.1
     */
    Operand<TFloat32> classify(Ops tf, Operand<TFloat32> hidden);

    /**
     * A process reward model's likelihood features ({@link ModelConfig#scoreLikelihood()} with a classification head):
     * per step, the lowest and the mean {@link #tokenLogProbs} over the positions that predict its tokens (0 and 0 for
     * a step without any).
     *
     * @param stepTokens {@code [B, S, T]}: 1 at each position whose next token is one of step {@code s}'s
     * @return {@code [B, S, 2]}: {@code [min, mean]}
     * @since 1.2
     */
    default Operand<TFloat32> stepLogProbFeatures(Ops tf, Operand<TFloat32> hidden, Operand<TInt32> next,
            Operand<TFloat32> stepTokens) {
        Operand<TFloat32> lp = tf.expandDims(tokenLogProbs(tf, hidden, next), tf.constant(1)); // [B, 1, T]
        Operand<TFloat32> count = tf.reduceSum(stepTokens, tf.constant(2)); // [B, S]
        Operand<TFloat32> mean = tf.math.div(tf.reduceSum(tf.math.mul(lp, stepTokens), tf.constant(2)),
                tf.math.maximum(count, tf.constant(1f))); // [B, S]
        Operand<TFloat32> outside = tf.math.mul(tf.math.sub(tf.constant(1f), stepTokens), tf.constant(1e9f));
        Operand<TFloat32> min = tf.math.minimum(tf.reduceMin(tf.math.add(tf.math.mul(lp, stepTokens), outside),
                tf.constant(2)), tf.constant(0f)); // [B, S]: log-probabilities are <= 0; a step without tokens: 0
        return tf.stack(List.of(min, mean), org.tensorflow.op.core.Stack.axis(2L)); // [B, S, 2]
    }

    /**
     * The likelihood features of a reward model that scores with a frozen reference's likelihood
     * ({@link ModelConfig#likelihoodReference()}): per step, the lowest and the mean probability (not log-probability:
     * bounded, so the prior weights of {@code score_head.likelihood} and {@code cls_head.likelihood} keep the score's
     * scale whatever the reference) of the tokens at the positions marked, {@code [1, 1]} for a step without any
     * (nothing unlikely in it).
     *
     * @param stepTokens {@code [B, S, T]}: 1 at each position whose next token is one of step {@code s}'s
     * @return {@code [B, S, 2]}: {@code [min p, mean p]}
     * @since 1.3
     */
    default Operand<TFloat32> stepProbFeatures(Ops tf, Operand<TFloat32> hidden, Operand<TInt32> next,
            Operand<TFloat32> stepTokens) {
        Operand<TFloat32> lp = tf.expandDims(tokenLogProbs(tf, hidden, next), tf.constant(1)); // [B, 1, T]
        Operand<TFloat32> count = tf.reduceSum(stepTokens, tf.constant(2)); // [B, S]
        Operand<TFloat32> none = tf.dtypes.cast(tf.math.equal(count, tf.constant(0f)), TFloat32.class); // [B, S]
        Operand<TFloat32> mean = tf.math.div(tf.math.add(tf.reduceSum(tf.math.mul(tf.math.exp(lp), stepTokens),
                tf.constant(2)), none), tf.math.maximum(count, tf.constant(1f))); // [B, S]
        Operand<TFloat32> outside = tf.math.mul(tf.math.sub(tf.constant(1f), stepTokens), tf.constant(1e9f));
        Operand<TFloat32> min = tf.math.exp(tf.math.minimum(tf.reduceMin(tf.math.add(tf.math.mul(lp, stepTokens),
                outside), tf.constant(2)), tf.constant(0f))); // [B, S]
        return tf.stack(List.of(min, mean), org.tensorflow.op.core.Stack.axis(2L)); // [B, S, 2]
    }

    /**
     * {@link #stepProbFeatures} as log-odds, {@code log p - log(1 - p)}, each of {@code p} and {@code 1 - p} at least
     * {@code 1e-6} ({@code 1 - p} is computed from the log-probabilities, {@code -expm1(log p)}, so it stays exact
     * near 1): what the step head of a model scored by its steps ({@link ModelConfig#stepCredit()}) reads, so that
     * with the prior weight +1 on the lowest probability, {@code sigmoid(z)} starts near the probability of the step's
     * least likely token. A step without tokens: {@code log(1) - log(1e-6)} for both.
     *
     * @return {@code [B, S, 2]}: {@code [logit(min p), logit(mean p)]}
     * @since 1.3
     */
    default Operand<TFloat32> stepLogOddsFeatures(Ops tf, Operand<TFloat32> hidden, Operand<TInt32> next,
            Operand<TFloat32> stepTokens) {
        Operand<TFloat32> floor = tf.constant(1e-6f);
        Operand<TFloat32> lp = tf.expandDims(tokenLogProbs(tf, hidden, next), tf.constant(1)); // [B, 1, T]
        Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(stepTokens, tf.constant(2)), tf.constant(1f));
        Operand<TFloat32> none = tf.dtypes.cast(tf.math.equal(tf.reduceSum(stepTokens, tf.constant(2)),
                tf.constant(0f)), TFloat32.class); // [B, S]
        Operand<TFloat32> outside = tf.math.mul(tf.math.sub(tf.constant(1f), stepTokens), tf.constant(1e9f));
        Operand<TFloat32> minLp = tf.math.minimum(tf.reduceMin(tf.math.add(tf.math.mul(lp, stepTokens), outside),
                tf.constant(2)), tf.constant(0f)); // [B, S]
        Operand<TFloat32> minOdds = tf.math.sub(tf.math.log(tf.math.maximum(tf.math.exp(minLp), floor)),
                tf.math.log(tf.math.maximum(tf.math.neg(tf.math.expm1(minLp)), floor)));
        Operand<TFloat32> meanP = tf.math.div(tf.math.add(tf.reduceSum(tf.math.mul(tf.math.exp(lp), stepTokens),
                tf.constant(2)), none), count); // [B, S]
        Operand<TFloat32> meanQ = tf.math.div(tf.reduceSum(tf.math.mul(tf.math.neg(tf.math.expm1(lp)), stepTokens),
                tf.constant(2)), count); // [B, S]: 1 - mean p
        Operand<TFloat32> meanOdds = tf.math.sub(tf.math.log(tf.math.maximum(meanP, floor)),
                tf.math.log(tf.math.maximum(meanQ, floor)));
        return tf.stack(List.of(minOdds, meanOdds), org.tensorflow.op.core.Stack.axis(2L)); // [B, S, 2]
    }

    /**
     * The classification head's likelihood term: {@code features @ cls_head.likelihood} ({@code [2, C]}), added to
     * a process model's step logits when the model has {@link ModelConfig#scoreLikelihood()}.
     *
     * @param features {@code [B, S, 2]} from {@link #stepLogProbFeatures} (or {@link #stepProbFeatures} with a
     *        likelihood reference)
     * @return {@code [B, S, C]}
     * @throws IllegalStateException when the model has no such parameter
     * @since 1.2
     */
    default Operand<TFloat32> classifyLikelihood(Ops tf, Operand<TFloat32> features) {
        throw new IllegalStateException("this model has no likelihood weights in its classification head (it needs"
                + " classes > 0 and score_likelihood)");
    }

    /**
     * The scalar head's likelihood term: {@code features @ score_head.likelihood} ({@code [2]}), added to an outcome
     * reward model's score when it scores with a reference's likelihood ({@link ModelConfig#likelihoodReference()}).
     *
     * @param features {@code [..., 2]}: {@code [min, mean]} token probability of the completion, from
     *        {@link #stepProbFeatures} with the whole completion as one step
     * @return {@code [...]}
     * @throws IllegalStateException when the model has no such parameter
     * @since 1.3
     */
    default Operand<TFloat32> scalarLikelihood(Ops tf, Operand<TFloat32> features) {
        throw new IllegalStateException("this model has no likelihood weights in its scalar head (it needs classes 0"
                + " and likelihood_reference)");
    }

    /** Every trainable variable, in a stable order, with the names weights files use. */
    List<Parameter> parameters();

    /**
     * Assigns initial values drawn from a seeded Java generator (not TensorFlow's random ops), so the same seed gives
     * the same model on every machine and thread count.
     */
    void initialize(Session session, long seed);

    /** Reads the current values of the parameters. */
    Map<String, TensorData> read(Session session);

    /**
     * Assigns values to parameters by name. Fails, naming the parameter, on a missing name or a shape that differs;
     * names not in the model are reported unless {@code allowUnknown}.
     */
    void assign(Session session, Map<String, TensorData> values, boolean allowUnknown);
}
