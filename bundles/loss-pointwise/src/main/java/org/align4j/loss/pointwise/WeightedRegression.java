package org.align4j.loss.pointwise;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.align4j.api.loss.LossResult;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What every pointwise loss shares: the weighted mean of a per-example loss of the error {@code e = p - t}, and the
 * metrics beside it.
 *
 * <pre>
 * loss = sum(w * l(e)) / max(sum(w), eps)        w = 1 when the weights are null
 * rmse = sqrt(sum(w * e^2) / max(sum(w), eps))
 * mae  = sum(w * |e|) / max(sum(w), eps)
 * </pre>
 *
 * {@code eps} is {@value #EPS}: all-zero weights (or an empty batch) give 0, not NaN. Inputs of any equal shape are
 * reduced over all their elements; the contract's is {@code [B]}.
 */
final class WeightedRegression {
    /** Metric: the weighted root-mean-square error. */
    static final String RMSE = "rmse";
    /** Metric: the weighted mean absolute error. */
    static final String MAE = "mae";
    /** The floor of {@code sum(w)}. */
    static final float EPS = 1e-12f;

    private WeightedRegression() {
    }

    /**
     * @param name the loss's name, for errors
     * @param perExample {@code l(e)}, elementwise on the error {@code [N]}
     */
    static LossResult compute(Ops tf, String name, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights, UnaryOperator<Operand<TFloat32>> perExample) {
        requireSameShape(name, "targets", predictions.shape(), targets.shape());
        if (weights != null) {
            requireSameShape(name, "weights", predictions.shape(), weights.shape());
        }
        Operand<TFloat32> error = tf.reshape(tf.math.sub(predictions, targets), flat(tf)); // [N]
        Operand<TFloat32> w = weights == null ? null : tf.reshape(weights, flat(tf)); // [N] or none
        Operand<TFloat32> total = w == null
                ? tf.dtypes.cast(tf.size(error), TFloat32.class) // [] N
                : tf.reduceSum(w, tf.constant(0)); // [] sum(w)
        Operand<TFloat32> denominator = tf.math.maximum(total, tf.constant(EPS)); // []
        Operand<TFloat32> loss = mean(tf, perExample.apply(error), w, denominator); // []
        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put(RMSE, tf.math.sqrt(mean(tf, tf.math.square(error), w, denominator))); // []
        metrics.put(MAE, mean(tf, tf.math.abs(error), w, denominator)); // []
        return LossResult.of(loss, metrics);
    }

    /** {@code sum(w * x) / denominator} ({@code w = 1} when null). */
    private static Operand<TFloat32> mean(Ops tf, Operand<TFloat32> x, Operand<TFloat32> w,
            Operand<TFloat32> denominator) {
        Operand<TFloat32> weighted = w == null ? x : tf.math.mul(w, x); // [N]
        return tf.math.div(tf.reduceSum(weighted, tf.constant(0)), denominator); // []
    }

    private static Operand<TInt32> flat(Ops tf) {
        return tf.constant(new int[] {-1});
    }

    private static void requireSameShape(String name, String what, Shape predictions, Shape other) {
        if (!predictions.isUnknown() && !other.isUnknown() && !predictions.hasUnknownDimension()
                && !other.hasUnknownDimension() && !predictions.equals(other)) {
            throw new IllegalArgumentException(name + " loss: predictions have shape " + predictions + " but "
                    + what + " have shape " + other + "; both must be [B], one value per example");
        }
    }
}
