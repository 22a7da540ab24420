package org.align4j.loss.process;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What a process loss computes per step, all {@code [B, S]}, before the shared reduction in {@link StepReduction}.
 *
 * @param nll the step's loss (finite everywhere, also at padding)
 * @param weight 1 where the step counts, 0 where it does not (padding, an ignored neutral, a step before the last in
 *        outcome supervision)
 * @param predicted the class the logits pick, a {@link org.align4j.api.loss.StepLabel} value
 * @param target the class the step is labelled with, after any mapping of neutral steps
 */
record StepTerms(Operand<TFloat32> nll, Operand<TFloat32> weight, Operand<TInt32> predicted,
        Operand<TInt32> target) {
}
