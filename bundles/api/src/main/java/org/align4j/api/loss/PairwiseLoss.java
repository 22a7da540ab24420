package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A pairwise reward-model loss (family {@value LossFamily#PAIRWISE}), e.g. Bradley-Terry
 * {@code -log sigmoid(r_chosen - r_rejected - margin)}, averaged over the batch.
 *
 * <ul>
 * <li>{@code chosen}, {@code rejected} {@code [B]}: the reward model's scores of the preferred and the other
 * completion of the same prompt;</li>
 * <li>{@code margin} {@code [B]} or {@code null}: how much the chosen one is preferred (0 when absent).</li>
 * </ul>
 * Metrics should include {@code accuracy} (the fraction with {@code chosen > rejected}).
 */
@ConsumerType
public interface PairwiseLoss {
    LossResult compute(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected, Operand<TFloat32> margin);
}
