package org.align4j.loss.listwise;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.loss.LossResult;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What the listwise losses share: the batch of ranked lists with its padding neutralised, the ordered pairs, a
 * masked log-sum-exp, the mean over lists and the metrics. Indices: {@code b} the list, {@code i}, {@code j} two
 * completions of it.
 */
final class Lists {
    /** Stands in for minus infinity where a masked maximum must ignore an entry; finite, so 0 times it is 0. */
    private static final float NEG = -1e30f;

    /** A completion is real where {@code mask > 0}; padding takes no part in anything below. */
    final Operand<TFloat32> real; // [B, K] 1 real, 0 padding
    /** The scores with padding set to 0, whatever it held (even NaN): padding can poison neither value nor gradient. */
    final Operand<TFloat32> scores; // [B, K]
    final Operand<TInt32> ranks; // [B, K]
    /** 1 where i and j are both real and {@code rank_i < rank_j} (i is better; tied pairs are not ordered). */
    final Operand<TFloat32> better; // [B, K, K]
    /** {@code s_i - s_j}. */
    final Operand<TFloat32> diff; // [B, K, K]
    /** Number of real completions per list. */
    final Operand<TFloat32> numReal; // [B]

    Lists(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask) {
        Operand<TBool> isReal = tf.math.greater(mask, tf.constant(0f)); // [B, K]
        this.real = tf.dtypes.cast(isReal, TFloat32.class); // [B, K]
        this.scores = tf.select(isReal, scores, tf.zerosLike(scores)); // [B, K]
        this.ranks = ranks;
        Operand<TFloat32> realPair = tf.math.mul(tf.expandDims(real, tf.constant(2)),
                tf.expandDims(real, tf.constant(1))); // [B, K, K] real_i * real_j
        Operand<TBool> ranked = tf.math.less(tf.expandDims(ranks, tf.constant(2)),
                tf.expandDims(ranks, tf.constant(1))); // [B, K, K] rank_i < rank_j
        this.better = tf.math.mul(tf.dtypes.cast(ranked, TFloat32.class), realPair); // [B, K, K]
        this.diff = tf.math.sub(tf.expandDims(this.scores, tf.constant(2)),
                tf.expandDims(this.scores, tf.constant(1))); // [B, K, K]
        this.numReal = tf.reduceSum(real, tf.constant(1)); // [B]
    }

    /** 1 for a list with at least two real completions, the lists a ranking loss can say anything about. */
    Operand<TFloat32> atLeastTwoReal(Ops tf) {
        return tf.dtypes.cast(tf.math.greaterEqual(numReal, tf.constant(2f)), TFloat32.class); // [B]
    }

    /**
     * {@code log sum_j allowed_j exp(x_j)} over the last axis, stable for any spread of x: the maximum over the
     * allowed entries is subtracted first (and taken as a constant: it cancels in value and gradient). Entries with
     * {@code allowed = 0} add nothing to the value or the gradient; a row with nothing allowed gives 0. {@code x} must
     * be finite and broadcast against {@code allowed} (0 or 1).
     */
    static Operand<TFloat32> logSumExp(Ops tf, Operand<TFloat32> x, Operand<TFloat32> allowed) {
        Operand<TInt32> last = tf.constant(-1);
        Operand<TFloat32> one = tf.constant(1f);
        Operand<TFloat32> masked = tf.math.add(tf.math.mul(x, allowed),
                tf.math.mul(tf.math.sub(one, allowed), tf.constant(NEG))); // [..., K] NEG where not allowed
        Operand<TFloat32> any = tf.reduceMax(allowed, last, ReduceMax.keepDims(true)); // [..., 1]
        Operand<TFloat32> max = tf.math.mul(tf.stopGradient(
                tf.reduceMax(masked, last, ReduceMax.keepDims(true))), any); // [..., 1] 0 when nothing allowed
        Operand<TFloat32> z = tf.math.mul(tf.math.sub(x, max), allowed); // [..., K] <= 0 where allowed, else 0
        Operand<TFloat32> sum = tf.reduceSum(tf.math.mul(tf.math.exp(z), allowed), last,
                ReduceSum.keepDims(true)); // [..., 1] >= 1 where anything is allowed, else 0
        Operand<TFloat32> lse = tf.math.add(max, tf.math.log(tf.math.add(sum, tf.math.sub(one, any)))); // [..., 1]
        return tf.squeeze(lse, Squeeze.axis(List.of(-1L))); // [...]
    }

    /** {@code -log sigmoid(x) = softplus(-x)}, elementwise: stable for any x, with the exact gradient at 0. */
    static Operand<TFloat32> negLogSigmoid(Ops tf, Operand<TFloat32> x) {
        return tf.math.softplus(tf.math.neg(x));
    }

    /** {@code sum_b counted_b * perList_b / max(sum_b counted_b, 1)}: the mean over the counted lists, 0 if none. */
    static Operand<TFloat32> meanOverLists(Ops tf, Operand<TFloat32> perList, Operand<TFloat32> counted) {
        Operand<TInt32> axis = tf.constant(0);
        Operand<TFloat32> total = tf.reduceSum(tf.math.mul(counted, perList), axis); // []
        return tf.math.div(total, tf.math.maximum(tf.reduceSum(counted, axis), tf.constant(1f))); // []
    }

    /**
     * The loss with the metrics every listwise loss reports, over the ordered pairs ({@code rank_i < rank_j}, both
     * real) of the whole batch: {@code accuracy}, the share with {@code s_i > s_j} (strictly; equal scores count as
     * wrong), and {@code margin}, the mean of {@code s_i - s_j}; both 0 when the batch has no ordered pair.
     */
    LossResult result(Ops tf, Operand<TFloat32> loss) {
        Operand<TInt32> all = tf.constant(new int[] {0, 1, 2});
        Operand<TFloat32> pairs = tf.math.maximum(tf.reduceSum(better, all), tf.constant(1f)); // []
        Operand<TFloat32> correct = tf.dtypes.cast(tf.math.greater(diff, tf.constant(0f)), TFloat32.class); // [B, K, K]
        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", tf.math.div(tf.reduceSum(tf.math.mul(better, correct), all), pairs)); // []
        metrics.put("margin", tf.math.div(tf.reduceSum(tf.math.mul(better, diff), all), pairs)); // []
        return LossResult.of(loss, metrics);
    }

    /** For a loss without options: any key in its {@code loss:} section is an error naming file and key. */
    static void noSettings(Settings settings, String loss) {
        if (!settings.keys().isEmpty()) {
            throw settings.error(settings.keys().iterator().next(),
                    "unknown setting (" + loss + " takes no settings)");
        }
    }
}
