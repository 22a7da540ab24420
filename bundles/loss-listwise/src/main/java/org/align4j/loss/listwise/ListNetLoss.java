package org.align4j.loss.listwise;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * ListNet's top-one cross-entropy (Cao et al., 2007): the probability of each completion being ranked first, from the
 * human ranks and from the scores, compared by cross-entropy over the real completions of a list:
 *
 * <pre>
 * p_i       = softmax_{j real}(-rank_j)_i                 target: exp(-rank), so each rank down divides by e
 * q_i       = softmax_{j real}(s_j)_i                     prediction
 * list(b)   = -sum_{i real} p_i log q_i
 * loss      = mean of list(b) over the lists with at least two real completions
 * </pre>
 *
 * The target is {@code exp(-rank)}, normalised: tied completions get equal shares, and gaps between rank values count
 * (ranks 0 and 2 are further apart than 0 and 1). The loss is a cross-entropy, so its minimum is the entropy of
 * {@code p}, not 0; it is reached when {@code s = -rank + const}. Both softmaxes are masked log-sum-exps with the
 * maximum subtracted, stable for any spread of scores. A list with fewer than two real completions adds nothing and is
 * left out of the mean.
 *
 * <p>No settings. Metrics: {@code accuracy} (share of ordered pairs of the batch with {@code s_i > s_j}) and
 * {@code margin} (mean of {@code s_i - s_j} over them).
 */
@Component
@LossService(name = "listnet", family = LossFamily.LISTWISE)
public final class ListNetLoss implements ListwiseLoss {

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask) {
        Lists lists = new Lists(tf, scores, ranks, mask);
        return lists.result(tf, Lists.meanOverLists(tf, crossEntropy(tf, lists), lists.atLeastTwoReal(tf)));
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask,
            Settings settings) {
        validate(settings);
        return compute(tf, scores, ranks, mask);
    }

    @Override
    public void validate(Settings settings) {
        Lists.noSettings(settings, "listnet");
    }

    /** {@code -sum_i p_i log q_i} of each list. */
    static Operand<TFloat32> crossEntropy(Ops tf, Lists lists) {
        Operand<TFloat32> target = tf.math.mul(tf.math.neg(tf.dtypes.cast(lists.ranks, TFloat32.class)),
                lists.real); // [B, K] -rank, 0 at padding (whatever rank it holds)
        Operand<TFloat32> p = tf.math.mul(tf.math.exp(logSoftmax(tf, target, lists.real)), lists.real); // [B, K]
        Operand<TFloat32> logQ = logSoftmax(tf, lists.scores, lists.real); // [B, K]
        return tf.math.neg(tf.reduceSum(tf.math.mul(p, logQ), tf.constant(1))); // [B]
    }

    /** {@code x_i - logsumexp_{j real} x_j}, over the last axis. */
    private static Operand<TFloat32> logSoftmax(Ops tf, Operand<TFloat32> x, Operand<TFloat32> real) {
        return tf.math.sub(x, tf.expandDims(Lists.logSumExp(tf, x, real), tf.constant(-1))); // [B, K]
    }
}
