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
 * The Bradley-Terry loss accumulated over every ordered pair of a ranked list, then averaged over lists:
 *
 * <pre>
 * pairs(b)  = {(i, j) : i, j real, rank_i &lt; rank_j}
 * list(b)   = sum_{(i, j) in pairs(b)} -log sigmoid(s_i - s_j)           (reduction: sum)
 *           = that sum / |pairs(b)|                                      (reduction: mean, the default)
 * loss      = mean of list(b) over the lists with at least one pair
 * </pre>
 *
 * Tied completions form no pair; a list whose real completions all tie, or that has fewer than two, adds nothing and
 * is left out of the mean (a batch without any pair gives 0). {@code -log sigmoid(x)} is TensorFlow's
 * {@code Softplus(-x)}: stable for any gap, exact gradient at 0. All K&times;K pairs are formed at once, so the cost is
 * {@code O(B K^2)}: fine for the handful of completions a prompt has.
 *
 * <p>Setting (the stage's {@code loss:} section): {@value #REDUCTION}, {@code mean} (default: every list weighs the
 * same however many completions it has) or {@code sum} (a list weighs by its number of pairs).
 *
 * <p>Metrics: {@code accuracy} (share of ordered pairs of the batch with {@code s_i > s_j}) and {@code margin} (mean of
 * {@code s_i - s_j} over them).
 */
@Component
@LossService(name = "accumulated-pairwise", family = LossFamily.LISTWISE)
public final class AccumulatedPairwiseLoss implements ListwiseLoss {

    /** Setting: how the pairs of one list are combined, {@code mean} (default) or {@code sum}. */
    public static final String REDUCTION = "reduction";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask) {
        return build(tf, new Lists(tf, scores, ranks, mask), true);
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask,
            Settings settings) {
        boolean mean = meanPerList(settings);
        return build(tf, new Lists(tf, scores, ranks, mask), mean);
    }

    @Override
    public void validate(Settings settings) {
        meanPerList(settings);
    }

    /** True for {@code reduction: mean} (or none), false for {@code sum}; an error naming file and key otherwise. */
    static boolean meanPerList(Settings settings) {
        settings.checkKnown(REDUCTION);
        String r = settings.getString(REDUCTION, "mean");
        if (r.equals("mean")) {
            return true;
        }
        if (r.equals("sum")) {
            return false;
        }
        throw settings.error(REDUCTION, "expected mean or sum, got \"" + r + "\"");
    }

    private static LossResult build(Ops tf, Lists lists, boolean mean) {
        Operand<TInt32> pairAxes = tf.constant(new int[] {1, 2});
        Operand<TFloat32> perPair = tf.math.mul(lists.better,
                Lists.negLogSigmoid(tf, lists.diff)); // [B, K, K] 0 outside the ordered pairs
        Operand<TFloat32> total = tf.reduceSum(perPair, pairAxes); // [B]
        Operand<TFloat32> pairs = tf.reduceSum(lists.better, pairAxes); // [B]
        Operand<TFloat32> perList = mean
                ? tf.math.div(total, tf.math.maximum(pairs, tf.constant(1f))) // [B]
                : total; // [B]
        Operand<TFloat32> counted = tf.dtypes.cast(tf.math.greater(pairs, tf.constant(0f)), TFloat32.class); // [B]
        return lists.result(tf, Lists.meanOverLists(tf, perList, counted));
    }
}
