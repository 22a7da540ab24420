package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
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
 *
 * <p>Options: a loss that has some reads them from the stage's {@code loss:} section, passed as {@link Settings} to
 * {@link #compute(Ops, Operand, Operand, Operand, Settings)} and checked beforehand by {@link #validate(Settings)}.
 */
@ConsumerType
public interface ProcessLoss {
    /** The loss with its default options. */
    LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels, Operand<TFloat32> stepMask);

    /**
     * The loss with the options in {@code settings}: the stage's {@code loss:} section without its {@code name} key
     * (empty when the stage wrote {@code loss: name}). A loss with options overrides this; the default ignores
     * {@code settings} and calls {@link #compute(Ops, Operand, Operand, Operand)}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.1
     */
    default LossResult compute(Ops tf, Operand<TFloat32> stepLogits, Operand<TInt32> labels,
            Operand<TFloat32> stepMask, Settings settings) {
        return compute(tf, stepLogits, labels, stepMask);
    }

    /**
     * Checks {@code settings} (the same section {@link #compute(Ops, Operand, Operand, Operand, Settings)} gets)
     * without building anything, so that a pipeline rejects a misspelt key or a value out of range before it runs.
     * Losses with options override this (with {@link Settings#checkKnown(String...)} and the range-checked getters,
     * whose errors name the file and the key); the default accepts everything.
     *
     * @throws org.align4j.api.pipeline.SettingsException naming the file, the key and the problem
     * @since 1.1
     */
    default void validate(Settings settings) {
    }

    /**
     * How many logits per step this loss reads with {@code settings}: {@link StepLabel#COUNT} (the default), 2 or 1. A
     * trainer gives its model a classification head of this size.
     *
     * @since 1.1
     */
    default int classes(Settings settings) {
        return StepLabel.COUNT;
    }

    /**
     * The label a step's logits ({@code [C]}, {@code C = classes(settings)}) stand for, as this loss reads them: the
     * most likely of the three classes by default. A two-class loss returns {@link StepLabel#CORRECT} or
     * {@link StepLabel#INCORRECT}. Used to evaluate a process reward model (e.g. the F1 of finding incorrect steps).
     *
     * @since 1.1
     */
    default int predict(float[] logits, Settings settings) {
        int best = 0;
        for (int c = 1; c < logits.length; c++) {
            if (logits[c] > logits[best]) {
                best = c;
            }
        }
        return best;
    }
}
