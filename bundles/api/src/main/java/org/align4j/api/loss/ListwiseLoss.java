package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
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
 *
 * <p>Options: a loss that has some reads them from the stage's {@code loss:} section, passed as {@link Settings} to
 * {@link #compute(Ops, Operand, Operand, Operand, Settings)} and checked beforehand by {@link #validate(Settings)}.
 */
@ConsumerType
public interface ListwiseLoss {
    /** The loss with its default options. */
    LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask);

    /**
     * The loss with the options in {@code settings}: the stage's {@code loss:} section without its {@code name} key
     * (empty when the stage wrote {@code loss: name}). A loss with options overrides this; the default ignores
     * {@code settings} and calls {@link #compute(Ops, Operand, Operand, Operand)}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.1
     */
    default LossResult compute(Ops tf, Operand<TFloat32> scores, Operand<TInt32> ranks, Operand<TFloat32> mask,
            Settings settings) {
        return compute(tf, scores, ranks, mask);
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
