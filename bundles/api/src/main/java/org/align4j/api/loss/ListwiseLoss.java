package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A listwise reward-model loss (family {@value LossFamily#LISTWISE}): accumulated pairwise, Plackett-Luce, ListNet.
 *
 * <ul>
 * <li>{@code scores} {@code [B, K]}: the reward model's score of each of the K completions of a prompt;</li>
 * <li>{@code ranks} {@code [B, K]} int32: the human rank of each completion, 0 for the best; ties share a rank;</li>
 * <li>{@code mask} {@code [B, K]} float: 1 for a real completion, 0 for padding when a prompt has fewer than K.</li>
 * </ul>
 * The result is a mean over prompts. Padded completions take no part in any comparison.
 */
@ConsumerType
public interface ListwiseLoss {
    LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask);
}
