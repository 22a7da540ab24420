package org.align4j.attention.standard;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.attention.AttentionKernelService;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Scaled dot-product attention, the readable reference path (nanoGPT's {@code CausalSelfAttention} without the fused
 * kernel):
 *
 * <pre>
 * scores  = Q K^T * scale                       [B, H, Tq, Tk]
 * scores -= slope[h] * |queryOffset + i - j|     ALiBi, when slopes are given
 * scores += (allowed - 1) * 1e9                  causal (j &lt;= queryOffset + i), the window
 *                                                (j &gt; queryOffset + i - W) and key padding
 * weights = softmax(scores) * allowed            over the keys
 * out     = weights V                            [B, H, Tq, D]
 * </pre>
 *
 * <p><b>Grouped-query attention.</b> With {@code Hkv < H} key/value heads ({@code H % Hkv == 0}), query heads
 * {@code g*H/Hkv .. (g+1)*H/Hkv - 1} share key/value head {@code g} (the layout of Hugging Face's {@code repeat_kv}):
 * each key/value head is repeated {@code H/Hkv} times before the product.
 *
 * <p><b>Fully masked rows.</b> A query that may see no key at all (for instance a padding query whose visible keys
 * are all padding) gets an all-zero weight row and therefore an all-zero output, with a zero gradient, never NaN and
 * never a uniform average over the hidden keys: the softmax is multiplied by the 0/1 mask after it is taken. For every
 * other row that multiplication changes nothing, because {@code exp(-1e9)} is exactly 0 in float32.
 *
 * <p>Every op used here has a gradient in TensorFlow's C++ registry (BatchMatMulV3, Softmax, Tile, Reshape, Mul, Add),
 * so graphs that train through this kernel need no Java gradient. Batch, heads and lengths may be dynamic
 * ({@code [-1, -1, -1, D]} placeholders); only the head size {@code D} is read statically when it is known.
 */
@Component
@AttentionKernelService(name = "mha", supports = {AttentionKernel.CACHE, AttentionKernel.GROUPED,
    AttentionKernel.WINDOW, AttentionKernel.ALIBI})
public final class StandardAttention implements AttentionKernel {

    /** Subtracted from the logit of a key a query must not see. */
    static final float MASK_PENALTY = 1e9f;

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        Operand<TFloat32> q = in.query(); // [B, H, Tq, D]
        Operand<TFloat32> k = repeatKeyValueHeads(tf, q, in.key(), "key"); // [B, H, Tk, D]
        Operand<TFloat32> v = repeatKeyValueHeads(tf, q, in.value(), "value"); // [B, H, Tk, D]

        Operand<TFloat32> scores = tf.math.mul(
                tf.train.batchMatMul(q, k, TFloat32.class, BatchMatMul.adjY(true)), // [B, H, Tq, Tk]
                scale(tf, in)); // [B, H, Tq, Tk]
        if (in.alibiSlopes() != null) {
            scores = tf.math.sub(scores, alibi(tf, in)); // [B, H, Tq, Tk]
        }
        Operand<TFloat32> allowed = allowed(tf, in); // [B|1, 1, Tq|1, Tk] 1 = visible, 0 = hidden; null: all visible
        if (allowed != null) {
            Operand<TFloat32> penalty = tf.math.mul(tf.math.sub(allowed, tf.constant(1f)),
                    tf.constant(MASK_PENALTY)); // [B|1, 1, Tq|1, Tk] 0 or -1e9
            scores = tf.math.add(scores, penalty); // [B, H, Tq, Tk]
        }
        Operand<TFloat32> weights = tf.nn.softmax(scores); // [B, H, Tq, Tk]
        if (allowed != null) {
            weights = tf.math.mul(weights, allowed); // [B, H, Tq, Tk] fully masked rows become 0
        }
        return tf.train.batchMatMul(weights, v, TFloat32.class); // [B, H, Tq, D]
    }

    /**
     * The 0/1 visibility of key {@code j} to query {@code i}: causal ({@code j <= queryOffset + i}) times the key
     * mask; {@code null} when nothing is hidden.
     */
    static Operand<TFloat32> allowed(Ops tf, AttentionInputs in) {
        Operand<TFloat32> allowed = null;
        if (in.window() > 0 && !in.causal()) {
            throw new IllegalArgumentException("attention \"mha\": a window (" + in.window() + " keys) needs causal"
                    + " attention: it counts the keys before the query");
        }
        if (in.causal() && in.window() > 0) {
            Operand<TInt32> distance = distance(tf, in); // [Tq, Tk] query position - key position
            allowed = tf.dtypes.cast(tf.math.logicalAnd(tf.math.greaterEqual(distance, tf.constant(0)), // j <= i
                    tf.math.less(distance, tf.constant(in.window()))), TFloat32.class); // [Tq, Tk] and j > i - W
        } else if (in.causal()) { // the ops of the recorded example (RecordedLossesIT), which a window adds to
            Operand<TInt32> tq = dim(tf, in.query(), 2); // []
            Operand<TInt32> tk = dim(tf, in.key(), 2); // []
            Operand<TInt32> queryPos = tf.range(tf.constant(0), tq, tf.constant(1)); // [Tq]
            if (in.queryOffset() != null) {
                queryPos = tf.math.add(queryPos, in.queryOffset()); // [Tq] absolute positions
            }
            Operand<TInt32> keyPos = tf.range(tf.constant(0), tk, tf.constant(1)); // [Tk]
            allowed = tf.dtypes.cast(tf.math.lessEqual(
                    tf.expandDims(keyPos, tf.constant(0)), // [1, Tk]
                    tf.expandDims(queryPos, tf.constant(1))), // [Tq, 1]
                    TFloat32.class); // [Tq, Tk]
        }
        if (in.keyMask() != null) {
            Operand<TFloat32> keys = tf.dtypes.cast(tf.math.greater(in.keyMask(), tf.constant(0f)),
                    TFloat32.class); // [B, Tk] exactly 0 or 1
            keys = tf.expandDims(tf.expandDims(keys, tf.constant(1)), tf.constant(1)); // [B, 1, 1, Tk]
            allowed = allowed == null ? keys : tf.math.mul(keys, allowed); // [B, 1, Tq, Tk]
        }
        return allowed;
    }

    /** {@code queryOffset + i - j} for query {@code i} and key {@code j}: {@code [Tq, Tk]} int32. */
    static Operand<TInt32> distance(Ops tf, AttentionInputs in) {
        Operand<TInt32> queryPos = tf.range(tf.constant(0), dim(tf, in.query(), 2), tf.constant(1)); // [Tq]
        if (in.queryOffset() != null) {
            queryPos = tf.math.add(queryPos, in.queryOffset()); // [Tq] absolute positions
        }
        Operand<TInt32> keyPos = tf.range(tf.constant(0), dim(tf, in.key(), 2), tf.constant(1)); // [Tk]
        return tf.math.sub(tf.expandDims(queryPos, tf.constant(1)), // [Tq, 1]
                tf.expandDims(keyPos, tf.constant(0))); // [Tq, Tk]
    }

    /** ALiBi's bias to subtract, {@code slope[h] * |i - j|}: {@code [1, H, Tq, Tk]}. */
    static Operand<TFloat32> alibi(Ops tf, AttentionInputs in) {
        float[] slopes = in.alibiSlopes();
        Shape qs = in.query().shape();
        if (!qs.isUnknown() && qs.numDimensions() == 4 && qs.size(1) > 0 && qs.size(1) != slopes.length) {
            throw new IllegalArgumentException("attention \"mha\": " + slopes.length + " ALiBi slopes for "
                    + qs.size(1) + " query heads: give one per head");
        }
        Operand<TFloat32> d = tf.math.abs(tf.dtypes.cast(distance(tf, in), TFloat32.class)); // [Tq, Tk]
        Operand<TFloat32> s = tf.reshape(tf.constant(slopes), tf.constant(new int[] {1, -1, 1, 1})); // [1, H, 1, 1]
        return tf.math.mul(s, tf.expandDims(d, tf.constant(0))); // [1, H, Tq, Tk]
    }

    /** {@code [B, Hkv, Tk, D]} to {@code [B, H, Tk, D]}: each key/value head repeated {@code H/Hkv} times in place. */
    static Operand<TFloat32> repeatKeyValueHeads(Ops tf, Operand<TFloat32> query, Operand<TFloat32> kv, String what) {
        Shape qs = query.shape();
        Shape ks = kv.shape();
        long h = qs.isUnknown() || qs.numDimensions() < 2 ? Shape.UNKNOWN_SIZE : qs.size(1);
        long hkv = ks.isUnknown() || ks.numDimensions() < 2 ? Shape.UNKNOWN_SIZE : ks.size(1);
        if (h > 0 && hkv > 0) {
            if (h == hkv) {
                return kv; // [B, H, Tk, D]
            }
            if (h % hkv != 0) {
                throw new IllegalArgumentException("attention \"mha\": " + h + " query heads cannot share " + hkv
                        + " " + what + " heads: the number of query heads must be a multiple of the key/value heads");
            }
        }
        Operand<TInt32> kvShape = tf.shape(kv); // [4] = [B, Hkv, Tk, D]
        Operand<TInt32> groups = tf.math.div(dim(tf, query, 1), dim(tf, kv, 1)); // [] G = H / Hkv
        Operand<TFloat32> expanded = tf.expandDims(kv, tf.constant(2)); // [B, Hkv, 1, Tk, D]
        Operand<TInt32> one = tf.constant(1);
        Operand<TFloat32> tiled = tf.tile(expanded,
                tf.stack(java.util.List.of(one, one, groups, one, one))); // [B, Hkv, G, Tk, D]
        Operand<TInt32> target = tf.stack(java.util.List.of(
                tf.gather(kvShape, tf.constant(0), tf.constant(0)), // B
                tf.constant(-1), // H = Hkv * G
                tf.gather(kvShape, tf.constant(2), tf.constant(0)), // Tk
                tf.gather(kvShape, tf.constant(3), tf.constant(0)))); // D
        return tf.reshape(tiled, target); // [B, H, Tk, D]
    }

    /** The logit scale: the one given, or {@code 1/sqrt(D)} (static when {@code D} is known). */
    static Operand<TFloat32> scale(Ops tf, AttentionInputs in) {
        if (in.scale() != null) {
            return tf.constant(in.scale().floatValue()); // []
        }
        Shape qs = in.query().shape();
        if (!qs.isUnknown() && qs.numDimensions() == 4 && qs.size(3) > 0) {
            return tf.constant((float) (1.0 / Math.sqrt(qs.size(3)))); // []
        }
        return tf.math.rsqrt(tf.dtypes.cast(dim(tf, in.query(), 3), TFloat32.class)); // []
    }

    /** Dimension {@code axis} of {@code x} as a scalar int32, at run time. */
    private static Operand<TInt32> dim(Ops tf, Operand<?> x, int axis) {
        return tf.gather(tf.shape(x), tf.constant(axis), tf.constant(0)); // []
    }
}
