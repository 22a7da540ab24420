package org.align4j.loss.listwise;

import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The negative log-likelihood of the observed order under the Plackett-Luce model, in which the completions of a list
 * are drawn best first, each with probability proportional to {@code exp(score)} among those not drawn yet:
 *
 * <pre>
 * pi        = the real completions sorted by rank, ties by index (the lower index first)
 * list(b)   = sum_k [ logsumexp_{j &gt;= k} s_{pi(j)} - s_{pi(k)} ]        (k over the n real completions)
 * loss      = mean of list(b) over the lists with at least two real completions
 * </pre>
 *
 * The order is never materialised: the completions drawn at or after i are those with a greater rank, or the same rank
 * and an index {@code >= i}, so each term is a masked log-sum-exp over a K&times;K mask, computed by subtracting the
 * maximum (stable for any spread of scores). Ties are thus broken by position in the list, a convention: the loss of a
 * list with ties depends on the order its tied completions are given in (use accumulated-pairwise for tie-agnostic
 * training). The last term is always 0; a list with fewer than two real completions adds nothing and is left out of
 * the mean.
 *
 * <p>No settings. Metrics: {@code accuracy} (share of ordered pairs of the batch with {@code s_i > s_j}) and
 * {@code margin} (mean of {@code s_i - s_j} over them).
 */
@Component
@LossService(name = "plackett-luce", family = LossFamily.LISTWISE)
public final class PlackettLuceLoss implements ListwiseLoss {

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask) {
        Lists lists = new Lists(tf, scores, ranks, mask);
        return lists.result(tf, Lists.meanOverLists(tf, negLogLikelihood(tf, lists), lists.atLeastTwoReal(tf)));
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask,
            Settings settings) {
        validate(settings);
        return compute(tf, scores, ranks, mask);
    }

    @Override
    public void validate(Settings settings) {
        Lists.noSettings(settings, "plackett-luce");
    }

    /** {@code -log P(order)} of each list. */
    static Operand<TFloat32> negLogLikelihood(Ops tf, Lists lists) {
        Operand<TInt32> ri = tf.expandDims(lists.ranks, tf.constant(2)); // [B, K, 1]
        Operand<TInt32> rj = tf.expandDims(lists.ranks, tf.constant(1)); // [B, 1, K]
        Operand<TInt32> k = tf.gather(tf.shape(lists.scores), tf.constant(1), tf.constant(0)); // [] K
        Operand<TInt32> index = tf.range(tf.constant(0), k, tf.constant(1)); // [K]
        Operand<TBool> notBefore = tf.math.greaterEqual(tf.expandDims(index, tf.constant(0)),
                tf.expandDims(index, tf.constant(1))); // [K, K] j >= i
        Operand<TBool> later = tf.math.logicalOr(tf.math.greater(rj, ri),
                tf.math.logicalAnd(tf.math.equal(rj, ri), notBefore)); // [B, K, K] j drawn at or after i
        Operand<TFloat32> remaining = tf.math.mul(tf.dtypes.cast(later, TFloat32.class),
                tf.expandDims(lists.real, tf.constant(1))); // [B, K, K] and j is real
        Operand<TFloat32> lse = Lists.logSumExp(tf, tf.expandDims(lists.scores, tf.constant(1)),
                remaining); // [B, K] logsumexp over what remains when i is drawn
        Operand<TFloat32> term = tf.math.mul(lists.real, tf.math.sub(lse, lists.scores)); // [B, K]
        return tf.reduceSum(term, tf.constant(1)); // [B]
    }
}
