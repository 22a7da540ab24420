package org.align4j.api.loss;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The inputs of a {@link PreferenceLoss}, each {@code [B]}: the summed log-probability of the completion tokens
 * (prompt and padding masked out) under the policy being trained and under the frozen reference model, for the chosen
 * and the rejected completion of each prompt; and {@code beta}, the strength of the implicit KL constraint.
 */
public final class PreferenceBatch {
    private final Operand<TFloat32> policyChosen;
    private final Operand<TFloat32> policyRejected;
    private final Operand<TFloat32> referenceChosen;
    private final Operand<TFloat32> referenceRejected;
    private final float beta;

    public PreferenceBatch(Operand<TFloat32> policyChosen, Operand<TFloat32> policyRejected,
            Operand<TFloat32> referenceChosen, Operand<TFloat32> referenceRejected, float beta) {
        this.policyChosen = Objects.requireNonNull(policyChosen, "policyChosen");
        this.policyRejected = Objects.requireNonNull(policyRejected, "policyRejected");
        this.referenceChosen = Objects.requireNonNull(referenceChosen, "referenceChosen");
        this.referenceRejected = Objects.requireNonNull(referenceRejected, "referenceRejected");
        if (!(beta > 0)) {
            throw new IllegalArgumentException("beta must be > 0, got " + beta);
        }
        this.beta = beta;
    }

    /** {@code [B]} */
    public Operand<TFloat32> policyChosen() {
        return policyChosen;
    }

    /** {@code [B]} */
    public Operand<TFloat32> policyRejected() {
        return policyRejected;
    }

    /** {@code [B]} */
    public Operand<TFloat32> referenceChosen() {
        return referenceChosen;
    }

    /** {@code [B]} */
    public Operand<TFloat32> referenceRejected() {
        return referenceRejected;
    }

    public float beta() {
        return beta;
    }
}
