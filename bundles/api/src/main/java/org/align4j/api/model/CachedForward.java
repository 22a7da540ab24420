package org.align4j.api.model;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * What {@link Transformer#hiddenCached} adds to a graph: the hidden states of the new tokens and the cache extended
 * by them, to be fetched and fed back as the past of the next step.
 */
public final class CachedForward {
    private final Operand<TFloat32> hidden;
    private final KeyValueCache present;

    public CachedForward(Operand<TFloat32> hidden, KeyValueCache present) {
        this.hidden = Objects.requireNonNull(hidden, "hidden");
        this.present = Objects.requireNonNull(present, "present");
    }

    /** {@code [B, Tn, d]}: the final hidden states of the new tokens (after the final norm in pre-norm form). */
    public Operand<TFloat32> hidden() {
        return hidden;
    }

    /** The past followed by the new tokens: {@code [B, Hkv, P + Tn, D]} per block. */
    public KeyValueCache present() {
        return present;
    }
}
