package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A process (step-level) reward-model loss (family {@value LossFamily#PROCESS}).
 *
 * <ul>
 * <li>{@code stepLogits} {@code [B, S, C]}: scores of each of the {@link StepLabel#COUNT} classes at the end of each
 * of up to S reasoning steps;</li>
 * <li>{@code labels} {@code [B, S]} int32: {@link StepLabel#CORRECT}, {@link StepLabel#NEUTRAL} or
 * {@link StepLabel#INCORRECT};</li>
 * <li>{@code stepMask} {@code [B, S]} float: 1 for a real step, 0 for padding.</li>
 * </ul>
 * The result is a mean over real steps.
 */
@ConsumerType
public interface ProcessLoss {
    LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels, Operand<TFloat32> stepMask);
}
