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
 * Outcome-only supervision, for comparison with the step losses (Uesato et al., 2022): only the last real step of
 * each sequence counts, so the label there (put by the trainer: the verdict on the whole solution) is the only signal;
 * the mean is over sequences that have a real step.
 *
 * <pre>
 * last[b, s] = stepMask[b, s] where s is the largest index with stepMask[b, s] &gt; 0, else 0     [B, S]
 * loss       = the step-cross-entropy terms (C = 3) averaged with weights last                  (default)
 *            = the step-binary terms (C = 2 or 3, first vs last logit) with weights last      (neutral: set)
 * </pre>
 *
 * Setting {@code neutral}: absent, the three-class form; {@code correct}, {@code incorrect} or {@code ignore}, the
 * two-class form of {@code step-binary} with that mapping. All-padding rows contribute nothing; a batch with none but
 * padding gives 0. Metrics as for the step losses, over the last steps only ({@code num_steps} is the number of
 * sequences that count).
 */
@Component
@LossService(name = "outcome", family = LossFamily.PROCESS)
public final class OutcomeCrossEntropyLoss implements ProcessLoss {
    static final String NAME = "outcome";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask) {
        return compute(tf, stepLogits, labels, stepMask, (Neutral) null);
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

    /** Three classes, or two (correct, incorrect) when {@code neutral} is set. */
    @Override
    public int classes(Settings settings) {
        return neutral(settings) == null ? StepLabel.COUNT : 2;
    }

    @Override
    public int predict(float[] logits, Settings settings) {
        return neutral(settings) == null ? ProcessLoss.super.predict(logits, settings)
                : logits[0] - logits[logits.length - 1] > 0 ? StepLabel.CORRECT : StepLabel.INCORRECT;
    }

    /** {@code null} (three classes) when {@code neutral} is absent. */
    private static Neutral neutral(Settings settings) {
        settings.checkKnown(Neutral.KEY);
        return Neutral.from(settings, null);
    }

    private static LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Neutral neutral) {
        Operand<TFloat32> last = StepReduction.lastStepMask(tf, stepMask); // [B, S]
        StepTerms steps = neutral == null
                ? StepCrossEntropyLoss.steps(tf, NAME, stepLogits, labels, last)
                : StepBinaryCrossEntropyLoss.steps(tf, NAME, stepLogits, labels, last, neutral);
        return StepReduction.reduce(tf, steps);
    }
}
