package org.align4j.api.loss;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.op.Ops;

/**
 * A direct preference loss (family {@value LossFamily#PREFERENCE}), e.g. DPO
 * {@code -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))}, averaged over the batch. Metrics should include
 * TRL's {@code rewards/chosen}, {@code rewards/rejected}, {@code rewards/accuracies} and {@code rewards/margins}.
 */
@ConsumerType
public interface PreferenceLoss {
    /** The loss with its default options. */
    LossResult compute(Ops tf, PreferenceBatch batch);

    /**
     * The loss with the options in {@code settings}: the stage's {@code loss:} section without its {@code name} key
     * (e.g. {@code label_smoothing}). A loss with options overrides this; the default ignores {@code settings}.
     *
     * @throws org.align4j.api.pipeline.SettingsException when a setting is unknown or out of range
     * @since 1.2
     */
    default LossResult compute(Ops tf, PreferenceBatch batch, Settings settings) {
        return compute(tf, batch);
    }

    /**
     * Checks {@code settings} without building anything, so that a pipeline rejects a misspelt key or a value out of
     * range before it runs; the default accepts everything.
     *
     * @throws org.align4j.api.pipeline.SettingsException naming the file, the key and the problem
     * @since 1.2
     */
    default void validate(Settings settings) {
    }
}
