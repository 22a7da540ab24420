package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
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
 *
 * <p>Options: a loss that has some reads them from the stage's {@code loss:} section, passed as {@link Settings} to
 * {@link #compute(Ops, Operand, Operand, Operand, Settings)} and checked beforehand by {@link #validate(Settings)}.
 */
@ConsumerType
public interface PointwiseLoss {
    /** The loss with its default options. */
    LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets, Operand<TFloat32> weights);

    /**
     * The loss with the options in {@code settings}: the stage's {@code loss:} section without its {@code name} key
     * (empty when the stage wrote {@code loss: name}). A loss with options overrides this; the default ignores
     * {@code settings} and calls {@link #compute(Ops, Operand, Operand, Operand)}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.1
     */
    default LossResult compute(Ops tf, Operand<TFloat32> predictions, Operand<TFloat32> targets,
            Operand<TFloat32> weights, Settings settings) {
        return compute(tf, predictions, targets, weights);
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
}
