package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.op.Ops;

/**
 * A policy-gradient loss (family {@value LossFamily#POLICY}), e.g. PPO's clipped surrogate plus the clipped value
 * loss, each a masked mean over generated tokens. Hyper-parameters (clip ranges, value coefficient) are the service's
 * configuration. Metrics should include TRL's {@code policy/clipfrac}, {@code policy/approxkl} and
 * {@code val/clipfrac}.
 */
@ConsumerType
public interface PolicyLoss {
    LossResult compute(Ops tf, PolicyBatch batch);
}
