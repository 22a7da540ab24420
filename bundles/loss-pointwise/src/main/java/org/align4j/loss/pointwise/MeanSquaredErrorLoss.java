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
 * Squared error of the reward model's score against the rating, weighted mean over examples:
 *
 * <pre>
 * l(e) = e^2,   e = prediction - target
 * loss = sum(w * l(e)) / max(sum(w), 1e-12)
 * </pre>
 *
 * No options: a {@code loss:} section with any key besides {@code name} is rejected. Metrics {@code rmse} (weighted,
 * {@code sqrt} of the loss) and {@code mae} (weighted mean of {@code |e|}).
 */
@Component
@LossService(name = "mse", family = LossFamily.POINTWISE)
public final class MeanSquaredErrorLoss implements PointwiseLoss {

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights) {
        return WeightedRegression.compute(tf, "mse", predictions, targets, weights, e -> squared(tf, e));
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights, Settings settings) {
        validate(settings);
        return compute(tf, predictions, targets, weights);
    }

    @Override
    public void validate(Settings settings) {
        settings.checkKnown();
    }

    /** {@code e^2}. */
    static Operand<TFloat32> squared(Ops tf, Operand<TFloat32> error) {
        return tf.math.square(error); // [N]
    }
}
