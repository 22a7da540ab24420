package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.op.Ops;

/**
 * A policy-gradient loss (family {@value LossFamily#POLICY}), e.g. PPO's clipped surrogate plus the clipped value
 * loss, each a masked mean over generated tokens. Its options (clip ranges, value coefficient) are the stage's
 * {@code loss:} section without its {@code name}. Metrics should include TRL's {@code policy/clipfrac},
 * {@code policy/approxkl}, {@code loss/policy}, {@code loss/value}, {@code val/clipfrac} and {@code val/ratio}.
 */
@ConsumerType
public interface PolicyLoss {

    /**
     * The loss ({@code []}) with the options in {@code settings}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.3
     */
    LossResult compute(Ops tf, PolicyBatch batch, Settings settings);

    /**
     * Checks {@code settings} without building anything, so that a pipeline rejects a misspelt key or a value out of
     * range before it runs; the default accepts everything.
     *
     * @throws org.align4j.api.pipeline.SettingsException naming the file, the key and the problem
     * @since 1.3
     */
    default void validate(Settings settings) {
    }
}
