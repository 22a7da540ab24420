package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
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
 * Metrics should include {@code accuracy} (the fraction with {@code chosen > rejected}) and {@code margin} (the mean
 * of {@code chosen - rejected}), as TRL names them.
 *
 * <p>Options: a loss that has some reads them from the stage's {@code loss:} section, passed as {@link Settings} to
 * {@link #compute(Ops, Operand, Operand, Operand, Settings)} and checked beforehand by {@link #validate(Settings)}.
 */
@ConsumerType
public interface PairwiseLoss {
    /** The loss with its default options. */
    LossResult compute(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected, Operand<TFloat32> margin);

    /**
     * The loss with the options in {@code settings}: the stage's {@code loss:} section without its {@code name} key
     * (empty when the stage wrote {@code loss: name}). A loss with options overrides this; the default ignores
     * {@code settings} and calls {@link #compute(Ops, Operand, Operand, Operand)}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.1
     */
    default LossResult compute(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected,
            Operand<TFloat32> margin, Settings settings) {
        return compute(tf, chosen, rejected, margin);
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
