package org.align4j.api.attention;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What an {@link AttentionKernel} attends over. Shapes ({@code B} batch, {@code H} query heads, {@code Hkv} key/value
 * heads with {@code H % Hkv == 0}, {@code Tq} queries, {@code Tk} keys, {@code D} head size):
 * <ul>
 * <li>{@code query} {@code [B, H, Tq, D]}</li>
 * <li>{@code key}, {@code value} {@code [B, Hkv, Tk, D]} &mdash; with a KV cache, the cached keys followed by the new
 * ones</li>
 * <li>{@code queryOffset} scalar int32: the absolute position of the first query inside the key sequence. Without a
 * cache it is 0 and {@code Tq == Tk}; with a cache of {@code P} positions it is {@code P} and {@code Tk = P + Tq}.
 * Query {@code i} sits at position {@code queryOffset + i}; under a causal mask it sees keys {@code j <= queryOffset +
 * i}.</li>
 * <li>{@code keyMask} optional {@code [B, Tk]} float, 1 for a real key and 0 for padding; padded keys get no
 * weight.</li>
 * </ul>
 * The scale defaults to {@code 1/sqrt(D)}.
 */
public final class AttentionInputs {
    private final Operand<TFloat32> query;
    private final Operand<TFloat32> key;
    private final Operand<TFloat32> value;
    private Operand<TInt32> queryOffset;
    private Operand<TFloat32> keyMask;
    private boolean causal = true;
    private Float scale;

    private AttentionInputs(Operand<TFloat32> query, Operand<TFloat32> key, Operand<TFloat32> value) {
        this.query = Objects.requireNonNull(query, "query");
        this.key = Objects.requireNonNull(key, "key");
        this.value = Objects.requireNonNull(value, "value");
    }

    /** Causal self-attention with no cache and no padding mask. */
    public static AttentionInputs of(Operand<TFloat32> query, Operand<TFloat32> key, Operand<TFloat32> value) {
        return new AttentionInputs(query, key, value);
    }

    public AttentionInputs withQueryOffset(Operand<TInt32> offset) {
        this.queryOffset = offset;
        return this;
    }

    public AttentionInputs withKeyMask(Operand<TFloat32> mask) {
        this.keyMask = mask;
        return this;
    }

    public AttentionInputs withCausal(boolean causal) {
        this.causal = causal;
        return this;
    }

    public AttentionInputs withScale(float scale) {
        this.scale = scale;
        return this;
    }

    /** {@code [B, H, Tq, D]} */
    public Operand<TFloat32> query() {
        return query;
    }

    /** {@code [B, Hkv, Tk, D]} */
    public Operand<TFloat32> key() {
        return key;
    }

    /** {@code [B, Hkv, Tk, D]} */
    public Operand<TFloat32> value() {
        return value;
    }

    /** Scalar int32, or {@code null} for 0. */
    public Operand<TInt32> queryOffset() {
        return queryOffset;
    }

    /** {@code [B, Tk]} 1/0, or {@code null} when no key is padding. */
    public Operand<TFloat32> keyMask() {
        return keyMask;
    }

    public boolean causal() {
        return causal;
    }

    /** The logit scale, or {@code null} for {@code 1/sqrt(D)}. */
    public Float scale() {
        return scale;
    }
}
