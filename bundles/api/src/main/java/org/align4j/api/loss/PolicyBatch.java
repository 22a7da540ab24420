package org.align4j.api.loss;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The inputs of a {@link PolicyLoss}, all {@code [B, T]} over the generated tokens of B rollouts:
 * <ul>
 * <li>{@code logProbs}: log-probabilities of the taken tokens under the current policy (with gradient);</li>
 * <li>{@code oldLogProbs}: the same under the policy that generated the rollouts (constants);</li>
 * <li>{@code advantages}: e.g. GAE estimates, already whitened if the trainer does so;</li>
 * <li>{@code values}: the value model's current predictions (with gradient), {@code oldValues} those at rollout
 * time;</li>
 * <li>{@code returns}: the value targets;</li>
 * <li>{@code mask}: 1 for a generated token, 0 for prompt and padding.</li>
 * </ul>
 */
public final class PolicyBatch {
    private final Operand<TFloat32> logProbs;
    private final Operand<TFloat32> oldLogProbs;
    private final Operand<TFloat32> advantages;
    private final Operand<TFloat32> values;
    private final Operand<TFloat32> oldValues;
    private final Operand<TFloat32> returns;
    private final Operand<TFloat32> mask;

    public PolicyBatch(Operand<TFloat32> logProbs, Operand<TFloat32> oldLogProbs, Operand<TFloat32> advantages,
            Operand<TFloat32> values, Operand<TFloat32> oldValues, Operand<TFloat32> returns,
            Operand<TFloat32> mask) {
        this.logProbs = Objects.requireNonNull(logProbs, "logProbs");
        this.oldLogProbs = Objects.requireNonNull(oldLogProbs, "oldLogProbs");
        this.advantages = Objects.requireNonNull(advantages, "advantages");
        this.values = Objects.requireNonNull(values, "values");
        this.oldValues = Objects.requireNonNull(oldValues, "oldValues");
        this.returns = Objects.requireNonNull(returns, "returns");
        this.mask = Objects.requireNonNull(mask, "mask");
    }

    public Operand<TFloat32> logProbs() {
        return logProbs;
    }

    public Operand<TFloat32> oldLogProbs() {
        return oldLogProbs;
    }

    public Operand<TFloat32> advantages() {
        return advantages;
    }

    public Operand<TFloat32> values() {
        return values;
    }

    public Operand<TFloat32> oldValues() {
        return oldValues;
    }

    public Operand<TFloat32> returns() {
        return returns;
    }

    public Operand<TFloat32> mask() {
        return mask;
    }
}
