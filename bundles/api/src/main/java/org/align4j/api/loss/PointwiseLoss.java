package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A pointwise reward-model loss (family {@value LossFamily#POINTWISE}): regression of scores on human ratings.
 *
 * <ul>
 * <li>{@code predictions} {@code [B]}: the reward model's scores;</li>
 * <li>{@code targets} {@code [B]}: the ratings, already normalised to the scale the model predicts;</li>
 * <li>{@code weights} {@code [B]} or {@code null}: per-example weights (1 when absent; 0 drops an example).</li>
 * </ul>
 * The result is the weighted mean {@code sum(w * l) / max(sum(w), eps)}.
 */
@ConsumerType
public interface PointwiseLoss {
    LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets, Operand<TFloat32> weights);
}
