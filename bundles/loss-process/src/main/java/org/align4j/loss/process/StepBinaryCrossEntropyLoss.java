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
 * Two-class cross-entropy of each real step: correct against incorrect, with neutral steps mapped by the setting
 * {@code neutral}. The two classes are the <b>first</b> logit (correct) and the <b>last</b> one (incorrect):
 * {@code C = 2} is a two-class head {@code [correct, incorrect]}; {@code C = 3} is a {@link StepLabel} head whose
 * middle (neutral) logit is not used and gets no gradient.
 *
 * <pre>
 * z[b, s]   = stepLogits[b, s, 0] - stepLogits[b, s, C-1]        the correctness logit, [B, S]
 * nll[b, s] = -log softmax([first, last])[target] = softplus(-z) if the target is correct, softplus(z) if incorrect
 * loss      = sum(w * nll) / max(sum(w), 1),   w = stepMask (times "not neutral" under neutral: ignore)
 * </pre>
 *
 * Setting {@code neutral}: {@code correct} (default), {@code incorrect} or {@code ignore} (neutral steps drop out of
 * the loss, its mean and the metrics). Metrics {@code step_accuracy} (a step is predicted correct when
 * {@code z >= 0}), {@code num_steps}, {@code incorrect_precision}, {@code incorrect_recall}.
 */
@Component
@LossService(name = "step-binary", family = LossFamily.PROCESS)
public final class StepBinaryCrossEntropyLoss implements ProcessLoss {
    static final String NAME = "step-binary";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask) {
        return compute(tf, stepLogits, labels, stepMask, Neutral.DEFAULT);
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Settings settings) {
        return compute(tf, stepLogits, labels, stepMask, neutral(settings));
    }

    @Override
    public void validate(Settings settings) {
        neutral(settings);
    }

    /** A two-class head {@code [correct, incorrect]}. */
    @Override
    public int classes(Settings settings) {
        validate(settings);
        return 2;
    }

    /** Correct when the first logit is above the last one, as the loss reads them. */
    @Override
    public int predict(float[] logits, Settings settings) {
        return logits[0] - logits[logits.length - 1] > 0 ? StepLabel.CORRECT : StepLabel.INCORRECT;
    }

    private static LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Neutral neutral) {
        return StepReduction.reduce(tf, steps(tf, NAME, stepLogits, labels, stepMask, neutral));
    }

    static Neutral neutral(Settings settings) {
        settings.checkKnown(Neutral.KEY);
        return Neutral.from(settings, Neutral.DEFAULT);
    }

    static StepTerms steps(Ops tf, String loss, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Neutral neutral) {
        return StepReduction.twoClass(tf, correctnessLogit(tf, loss, stepLogits), labels, stepMask, neutral);
    }

    /**
     * {@code stepLogits[..., 0] - stepLogits[..., C-1]}, built as {@code sum(stepLogits * (1, 0, .., 0, -1))} over the
     * last axis (Mul and Sum have gradients; C may be known only at run time).
     */
    static Operand<TFloat32> correctnessLogit(Ops tf, String loss, Operand<TFloat32> stepLogits) {
        StepReduction.requireClasses(loss, stepLogits, "2 or 3 logits per step (the first is correct, the last "
                + "incorrect)", 2, StepLabel.COUNT);
        Operand<TInt32> c = tf.gather(tf.shape(stepLogits), tf.constant(2), tf.constant(0)); // [] C
        Operand<TFloat32> first = tf.oneHot(tf.constant(0), c, tf.constant(1f), tf.constant(0f)); // [C]
        Operand<TFloat32> last = tf.oneHot(tf.math.sub(c, tf.constant(1)), c, tf.constant(1f),
                tf.constant(0f)); // [C]
        Operand<TFloat32> selector = tf.math.sub(first, last); // [C] (1, .., -1)
        return tf.reduceSum(tf.math.mul(stepLogits, selector), tf.constant(2)); // [B, S]
    }
}
