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
 * <li>{@code window} optional (0: none), causal only: sliding-window attention over {@code W} keys including the
 * query itself, query {@code i} sees keys {@code queryOffset + i - W < j <= queryOffset + i}. A kernel that does not
 * list {@link AttentionKernel#WINDOW} in {@link AttentionKernel#SUPPORTS} must refuse it.</li>
 * <li>{@code alibiSlopes} optional, one per query head: ALiBi's additive bias
 * {@code -slope[h] * |queryOffset + i - j|} on the logit of key {@code j} for query {@code i} of head {@code h}
 * (causal: {@code j <= queryOffset + i}, so the distance is {@code queryOffset + i - j}; key slots and positions
 * advance together
 * over the real tokens of a row, so slot distances are position distances). A kernel that does not list
 * {@link AttentionKernel#ALIBI} must refuse it.</li>
 * </ul>
 * The scale defaults to {@code 1/sqrt(D)}.
 *
 * @since 1.1 window and ALiBi slopes
 */
public final class AttentionInputs {
    private final Operand<TFloat32> query;
    private final Operand<TFloat32> key;
    private final Operand<TFloat32> value;
    private Operand<TInt32> queryOffset;
    private Operand<TFloat32> keyMask;
    private boolean causal = true;
    private Float scale;
    private int window;
    private float[] alibiSlopes;

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

    /**
     * Sliding-window attention over {@code window} keys including the query's own; 0 for none.
     *
     * @since 1.1
     */
    public AttentionInputs withWindow(int window) {
        if (window < 0) {
            throw new IllegalArgumentException("attention window: expected 0 (none) or a number of keys >= 1, got "
                    + window);
        }
        this.window = window;
        return this;
    }

    /**
     * ALiBi's per-head slopes (one per query head), or {@code null} for no bias.
     *
     * @since 1.1
     */
    public AttentionInputs withAlibiSlopes(float[] slopes) {
        this.alibiSlopes = slopes == null ? null : slopes.clone();
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

    /**
     * The number of keys a query sees, its own included, or 0 for all (no window).
     *
     * @since 1.1
     */
    public int window() {
        return window;
    }

    /**
     * ALiBi's slopes, one per query head, or {@code null}.
     *
     * @since 1.1
     */
    public float[] alibiSlopes() {
        return alibiSlopes == null ? null : alibiSlopes.clone();
    }
}
