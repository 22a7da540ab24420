package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.op.Ops;

/**
 * A direct preference loss (family {@value LossFamily#PREFERENCE}), e.g. DPO
 * {@code -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))}, averaged over the batch. Metrics should include
 * TRL's {@code rewards/chosen}, {@code rewards/rejected}, {@code rewards/accuracies} and {@code rewards/margins}.
 */
@ConsumerType
public interface PreferenceLoss {
    LossResult compute(Ops tf, PreferenceBatch batch);
}
