package org.align4j.api.loss;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The inputs of a {@link PreferenceLoss}, each {@code [B]}: the summed log-probability of the completion tokens
 * (prompt and padding masked out) under the policy being trained and under the frozen reference model, for the chosen
 * and the rejected completion of each prompt; and {@code beta}, the strength of the implicit KL constraint. Since 1.2
 * it may also carry the number of completion tokens of each chosen and rejected completion ({@code [B]}), which a
 * loss that normalises by length (IPO as TRL trains it) needs.
 */
public final class PreferenceBatch {
    private final Operand<TFloat32> policyChosen;
    private final Operand<TFloat32> policyRejected;
    private final Operand<TFloat32> referenceChosen;
    private final Operand<TFloat32> referenceRejected;
    private final float beta;
    private final Operand<TFloat32> chosenTokens;
    private final Operand<TFloat32> rejectedTokens;

    public PreferenceBatch(Operand<TFloat32> policyChosen, Operand<TFloat32> policyRejected,
            Operand<TFloat32> referenceChosen, Operand<TFloat32> referenceRejected, float beta) {
        this(policyChosen, policyRejected, referenceChosen, referenceRejected, beta, null, null);
    }

    /**
     * @param chosenTokens {@code [B]} how many tokens each chosen completion has (the log-probabilities' terms), or
     *        {@code null} when unknown; likewise {@code rejectedTokens} (both or neither)
     * @since 1.2
     */
    public PreferenceBatch(Operand<TFloat32> policyChosen, Operand<TFloat32> policyRejected,
            Operand<TFloat32> referenceChosen, Operand<TFloat32> referenceRejected, float beta,
            Operand<TFloat32> chosenTokens, Operand<TFloat32> rejectedTokens) {
        if ((chosenTokens == null) != (rejectedTokens == null)) {
            throw new IllegalArgumentException("give the token counts of both the chosen and the rejected completions,"
                    + " or of neither");
        }
        this.chosenTokens = chosenTokens;
        this.rejectedTokens = rejectedTokens;
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

    /**
     * {@code [B]}: the number of tokens of each chosen completion, if the trainer gave them.
     *
     * @since 1.2
     */
    public java.util.Optional<Operand<TFloat32>> chosenTokens() {
        return java.util.Optional.ofNullable(chosenTokens);
    }

    /**
     * {@code [B]}: the number of tokens of each rejected completion, if the trainer gave them.
     *
     * @since 1.2
     */
    public java.util.Optional<Operand<TFloat32>> rejectedTokens() {
        return java.util.Optional.ofNullable(rejectedTokens);
    }
}
