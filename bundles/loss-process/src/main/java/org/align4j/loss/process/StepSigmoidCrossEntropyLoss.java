package org.align4j.loss.process;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.loss.ProcessLoss;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Sigmoid cross-entropy of one logit per step ({@code C = 1}), positive meaning correct (Math-Shepherd style), with
 * neutral steps mapped by the setting {@code neutral}:
 *
 * <pre>
 * z[b, s]   = stepLogits[b, s, 0]                                  [B, S]
 * nll[b, s] = -log sigmoid(z)  = softplus(-z)   if the target is correct
 *             -log sigmoid(-z) = softplus(z)    if the target is incorrect
 * loss      = sum(w * nll) / max(sum(w), 1),   w = stepMask (times "not neutral" under neutral: ignore)
 * </pre>
 *
 * {@code softplus} is built in a stable form (no overflow at logits of +-1000, exact gradient at 0). Setting
 * {@code neutral}: {@code correct} (default), {@code incorrect}, {@code ignore}. Metrics {@code step_accuracy} (a
 * step is predicted correct when {@code z >= 0}), {@code num_steps}, {@code incorrect_precision},
 * {@code incorrect_recall}.
 */
@Component
@LossService(name = "step-single-logit", family = LossFamily.PROCESS)
public final class StepSigmoidCrossEntropyLoss implements ProcessLoss {
    static final String NAME = "step-single-logit";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask) {
        return compute(tf, stepLogits, labels, stepMask, Neutral.DEFAULT);
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Settings settings) {
        return compute(tf, stepLogits, labels, stepMask, StepBinaryCrossEntropyLoss.neutral(settings));
    }

    @Override
    public void validate(Settings settings) {
        StepBinaryCrossEntropyLoss.neutral(settings);
    }

    /** One logit: positive means correct. */
    @Override
    public int classes(Settings settings) {
        validate(settings);
        return 1;
    }

    @Override
    public int predict(float[] logits, Settings settings) {
        return logits[0] > 0 ? StepLabel.CORRECT : StepLabel.INCORRECT;
    }

    private static LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Neutral neutral) {
        StepReduction.requireClasses(NAME, stepLogits, "1 logit per step (positive = correct)", 1);
        Operand<TFloat32> z = tf.reshape(stepLogits, tf.shape(labels)); // [B, S] (C = 1)
        return StepReduction.reduce(tf, StepReduction.twoClass(tf, z, labels, stepMask, neutral));
    }
}
