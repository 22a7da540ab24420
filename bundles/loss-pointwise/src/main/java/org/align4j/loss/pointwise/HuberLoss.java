package org.align4j.loss.pointwise;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.loss.PointwiseLoss;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Huber loss of the reward model's score against the rating: quadratic near the target, linear beyond
 * {@code delta}, so that a few wildly inconsistent ratings pull less than under squared error.
 *
 * <pre>
 * l(e) = e^2 / 2                   if |e| &lt;= delta
 *        delta * (|e| - delta / 2) otherwise,        e = prediction - target
 *      = q^2 / 2 + delta * (|e| - q),  q = min(|e|, delta)   (the form built: one expression, no select)
 * loss = sum(w * l(e)) / max(sum(w), 1e-12)
 * </pre>
 *
 * Setting {@value #DELTA} (default {@value #DEFAULT_DELTA}, must be &gt; 0 and finite). Metrics {@code rmse} and
 * {@code mae} (weighted), as for {@code mse}.
 */
@Component
@LossService(name = "huber", family = LossFamily.POINTWISE)
public final class HuberLoss implements PointwiseLoss {
    /** Setting: where the loss turns from quadratic to linear, in units of the targets. */
    public static final String DELTA = "delta";
    public static final double DEFAULT_DELTA = 1.0;

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights) {
        return compute(tf, predictions, targets, weights, DEFAULT_DELTA);
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights, Settings settings) {
        return compute(tf, predictions, targets, weights, delta(settings));
    }

    @Override
    public void validate(Settings settings) {
        delta(settings);
    }

    private static LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights, double delta) {
        return WeightedRegression.compute(tf, "huber", predictions, targets, weights, e -> huber(tf, e, delta));
    }

    /** {@code q^2 / 2 + delta * (|e| - q)} with {@code q = min(|e|, delta)}. */
    static Operand<TFloat32> huber(Ops tf, Operand<TFloat32> error, double delta) {
        Operand<TFloat32> d = tf.constant((float) delta); // []
        Operand<TFloat32> abs = tf.math.abs(error); // [N]
        Operand<TFloat32> q = tf.math.minimum(abs, d); // [N]
        Operand<TFloat32> quadratic = tf.math.mul(tf.constant(0.5f), tf.math.square(q)); // [N]
        return tf.math.add(quadratic, tf.math.mul(d, tf.math.sub(abs, q))); // [N]
    }

    /** The {@value #DELTA} setting, checked. */
    static double delta(Settings settings) {
        settings.checkKnown(DELTA);
        double delta = settings.getDouble(DELTA, DEFAULT_DELTA);
        if (!(delta > 0) || Double.isInfinite(delta) || (float) delta == 0f || Float.isInfinite((float) delta)) {
            throw settings.error(DELTA, "expected a number > 0 (the error at which the loss turns linear), got "
                    + delta);
        }
        return delta;
    }
}
