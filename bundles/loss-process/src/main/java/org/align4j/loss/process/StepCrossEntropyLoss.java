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
 * Three-class cross-entropy of each real step's label (correct, neutral, incorrect: {@link StepLabel}), averaged over
 * the real steps of the batch (Lightman et al., "Let's Verify Step by Step"):
 *
 * <pre>
 * nll[b, s] = -log softmax(stepLogits[b, s])[labels[b, s]]        stepLogits [B, S, 3]
 * loss      = sum(stepMask * nll) / max(sum(stepMask), 1)
 * </pre>
 *
 * The logits are flattened to {@code [B*S, 3]} before LogSoftmax: TensorFlow's C++ gradient of LogSoftmax (TF 2.18)
 * is right only for rank-2 input. Padding adds nothing to the loss or its gradient whatever its labels hold (a label
 * outside {@code [0, 3)} gives an all-zero one-hot row, which at a real step would add 0 yet count in the mean: real
 * steps must carry {@link StepLabel} values); a batch with no real step gives 0. No options. Metrics
 * {@code step_accuracy} (argmax, first index on ties), {@code num_steps}, {@code incorrect_precision},
 * {@code incorrect_recall}.
 */
@Component
@LossService(name = "step-cross-entropy", family = LossFamily.PROCESS)
public final class StepCrossEntropyLoss implements ProcessLoss {
    static final String NAME = "step-cross-entropy";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask) {
        return StepReduction.reduce(tf, steps(tf, NAME, stepLogits, labels, stepMask));
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Settings settings) {
        validate(settings);
        return compute(tf, stepLogits, labels, stepMask);
    }

    @Override
    public void validate(Settings settings) {
        settings.checkKnown();
    }

    /** The per-step terms; {@code weight} is {@code stepMask}. */
    static StepTerms steps(Ops tf, String loss, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask) {
        StepReduction.requireClasses(loss, stepLogits, "3 logits per step (correct, neutral, incorrect)",
                StepLabel.COUNT);
        Operand<TInt32> classes = tf.constant(StepLabel.COUNT); // [] C = 3
        Operand<TFloat32> rows = tf.reshape(stepLogits, tf.constant(new int[] {-1, StepLabel.COUNT})); // [N, C]
        Operand<TFloat32> logProbs = tf.nn.logSoftmax(rows); // [N, C] rank 2 on purpose (see the class comment)
        Operand<TFloat32> oneHot = tf.oneHot(tf.reshape(labels, StepReduction.flat(tf)), classes, tf.constant(1f),
                tf.constant(0f)); // [N, C]
        Operand<TFloat32> nll = tf.math.neg(tf.reduceSum(tf.math.mul(oneHot, logProbs), tf.constant(1))); // [N]
        Operand<TFloat32> perStep = tf.reshape(nll, tf.shape(labels)); // [B, S]
        Operand<TInt32> predicted = tf.dtypes.cast(tf.math.argMax(stepLogits, tf.constant(2)), TInt32.class); // [B, S]
        return new StepTerms(perStep, stepMask, predicted, labels);
    }
}
