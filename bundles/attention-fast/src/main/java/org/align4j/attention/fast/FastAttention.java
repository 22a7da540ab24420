package org.align4j.attention.fast;

import java.util.List;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.attention.AttentionKernelService;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Scaled dot-product attention with the same results as the reference kernel {@code mha} and fewer passes over the
 * {@code [B, H, Tq, Tk]} scores, in training (where each pass is also a pass of the backward) and in decoding:
 *
 * <pre>
 * q'      = Q * scale                                   [B, H, Tq, D]   (D wide, not Tk)
 * scores  = q' K^T, the H/Hkv query heads of a group    [B, Hkv, G, Tq, Tk] one product per key/value head, no copy
 *           stacked against their key/value head             of K or V (mha repeats them G times)
 * scores += bias                                        one add: -1e9 where causality, the window or key padding
 *                                                       hide a key, and ALiBi's -slope * distance; built on
 *                                                       [Tq, Tk] (or [B, 1, 1, Tq, Tk] with a key mask)
 * weights = softmax(scores)                             (times the 0/1 mask only when a key mask can hide a row)
 * out     = weights V                                   [B, Hkv, G, Tq, D] viewed as [B, H, Tq, D]
 * </pre>
 *
 * Query head {@code h} belongs to group {@code h / G} with {@code G = H / Hkv}, as in {@code mha}. Without a key mask
 * every query sees at least its own key (causal) or every key, so no row is fully masked and the softmax needs no
 * mask after it; with one, a query whose visible keys are all padding gets zeros, as in {@code mha}. Registered with
 * a higher {@code service.ranking} than {@code mha}.
 */
@Component(property = Constants.SERVICE_RANKING + ":Integer=10")
@AttentionKernelService(name = "mha-fast", supports = {AttentionKernel.CACHE, AttentionKernel.GROUPED,
    AttentionKernel.WINDOW, AttentionKernel.ALIBI})
public final class FastAttention implements AttentionKernel {

    /** Subtracted from the logit of a key a query must not see. */
    static final float MASK_PENALTY = 1e9f;

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        if (in.window() > 0 && !in.causal()) {
            throw new IllegalArgumentException("attention \"mha-fast\": a window (" + in.window() + " keys) needs"
                    + " causal attention: it counts the keys before the query");
        }
        Operand<TInt32> qShape = tf.shape(in.query()); // [4] = [B, H, Tq, D]
        Operand<TInt32> kShape = tf.shape(in.key()); // [4] = [B, Hkv, Tk, D]
        Operand<TInt32> group = groups(tf, in, qShape, kShape); // [] G = H / Hkv
        // as many key/value heads as query heads, known when the graph is built: no regrouping at all
        boolean plain = sameHeads(in);
        Operand<TInt32> tq = size(tf, qShape, 2); // []
        Operand<TInt32> tk = size(tf, kShape, 2); // []
        Operand<TFloat32> q = tf.math.mul(in.query(), scale(tf, in)); // [B, H, Tq, D]
        Operand<TFloat32> scores; // [B, H, Tq, Tk], or [B, Hkv, G, Tq, Tk] grouped
        Operand<TInt32> flatShape = null; // [B, Hkv, G * Tq, Tk] of the grouped product
        if (plain) {
            scores = tf.train.batchMatMul(q, in.key(), TFloat32.class, BatchMatMul.adjY(true));
        } else {
            Operand<TInt32> b = size(tf, qShape, 0);
            Operand<TInt32> hkv = size(tf, kShape, 1);
            Operand<TFloat32> grouped = tf.reshape(q, tf.stack(List.of(b, hkv, tf.math.mul(group, tq),
                    size(tf, qShape, 3)))); // [B, Hkv, G * Tq, D]: the queries of a group against its keys
            Operand<TFloat32> flat = tf.train.batchMatMul(grouped, in.key(), TFloat32.class,
                    BatchMatMul.adjY(true)); // [B, Hkv, G * Tq, Tk]
            flatShape = tf.shape(flat);
            scores = tf.reshape(flat, tf.stack(List.of(b, hkv, group, tq, tk))); // [B, Hkv, G, Tq, Tk]
        }
        int rank = plain ? 4 : 5;

        Operand<TInt32> distance = distance(tf, in, tq, tk); // [Tq, Tk]
        Operand<TFloat32> allowed = null; // 0/1, broadcast against the scores; null: every key visible
        if (in.causal()) {
            Operand<TBool> visible = tf.math.greaterEqual(distance, tf.constant(0));
            if (in.window() > 0) {
                visible = tf.math.logicalAnd(visible, tf.math.less(distance, tf.constant(in.window())));
            }
            allowed = tf.dtypes.cast(visible, TFloat32.class); // [Tq, Tk]
        }
        if (in.keyMask() != null) {
            Operand<TInt32>[] ones = ones(tf, rank - 2);
            List<Operand<TInt32>> dims = new java.util.ArrayList<>();
            dims.add(size(tf, tf.shape(in.keyMask()), 0));
            dims.addAll(List.of(ones));
            dims.add(tk);
            Operand<TFloat32> keys = tf.reshape(tf.dtypes.cast(tf.math.greater(in.keyMask(), tf.constant(0f)),
                    TFloat32.class), tf.stack(dims)); // [B, 1, (1,) 1, Tk]
            allowed = allowed == null ? keys : tf.math.mul(keys, allowed); // [B, 1, (1,) Tq, Tk]
        }
        Operand<TFloat32> bias = allowed == null ? null
                : tf.math.mul(tf.math.sub(allowed, tf.constant(1f)), tf.constant(MASK_PENALTY)); // 0 or -1e9
        if (in.alibiSlopes() != null) {
            Operand<TFloat32> slopes = tf.reshape(tf.constant(in.alibiSlopes()), plain
                    ? tf.constant(new int[] {-1, 1, 1}) // [H, 1, 1]
                    : tf.stack(List.of(size(tf, kShape, 1), tf.constant(-1), tf.constant(1),
                            tf.constant(1)))); // [Hkv, G, 1, 1]
            Operand<TFloat32> alibi = tf.math.mul(tf.math.neg(slopes),
                    tf.math.abs(tf.dtypes.cast(distance, TFloat32.class))); // [H, Tq, Tk] or [Hkv, G, Tq, Tk]
            bias = bias == null ? alibi : tf.math.add(bias, alibi);
        }
        if (bias != null) {
            scores = tf.math.add(scores, bias); // one pass over the scores
        }
        Operand<TFloat32> weights = tf.nn.softmax(scores);
        if (in.keyMask() != null) {
            weights = tf.math.mul(weights, allowed); // a row that sees only padding becomes 0
        }
        if (plain) {
            return tf.train.batchMatMul(weights, in.value(), TFloat32.class); // [B, H, Tq, D]
        }
        Operand<TFloat32> out = tf.train.batchMatMul(tf.reshape(weights, flatShape), in.value(),
                TFloat32.class); // [B, Hkv, G * Tq, D]
        return tf.reshape(out, qShape); // [B, H, Tq, D]
    }

    /** True when the query and key/value head counts are known and equal. */
    private static boolean sameHeads(AttentionInputs in) {
        Shape qs = in.query().shape();
        Shape ks = in.key().shape();
        return !qs.isUnknown() && !ks.isUnknown() && qs.numDimensions() == 4 && ks.numDimensions() == 4
                && qs.size(1) > 0 && qs.size(1) == ks.size(1);
    }

    @SuppressWarnings("unchecked")
    private static Operand<TInt32>[] ones(Ops tf, int n) {
        Operand<TInt32>[] out = new Operand[n];
        for (int i = 0; i < n; i++) {
            out[i] = tf.constant(1);
        }
        return out;
    }

    /** {@code H / Hkv}, checked when both are known statically. */
    private static Operand<TInt32> groups(Ops tf, AttentionInputs in, Operand<TInt32> qShape,
            Operand<TInt32> kShape) {
        Shape qs = in.query().shape();
        Shape ks = in.key().shape();
        if (!qs.isUnknown() && !ks.isUnknown() && qs.numDimensions() == 4 && ks.numDimensions() == 4
                && qs.size(1) > 0 && ks.size(1) > 0 && qs.size(1) % ks.size(1) != 0) {
            throw new IllegalArgumentException("attention \"mha-fast\": " + qs.size(1) + " query heads cannot share "
                    + ks.size(1) + " key heads: the number of query heads must be a multiple of the key/value heads");
        }
        if (in.alibiSlopes() != null && !qs.isUnknown() && qs.numDimensions() == 4 && qs.size(1) > 0
                && qs.size(1) != in.alibiSlopes().length) {
            throw new IllegalArgumentException("attention \"mha-fast\": " + in.alibiSlopes().length
                    + " ALiBi slopes for " + qs.size(1) + " query heads: give one per head");
        }
        return tf.math.div(size(tf, qShape, 1), size(tf, kShape, 1));
    }

    /** {@code queryOffset + i - j}: {@code [Tq, Tk]}. */
    private static Operand<TInt32> distance(Ops tf, AttentionInputs in, Operand<TInt32> tq, Operand<TInt32> tk) {
        Operand<TInt32> query = tf.range(tf.constant(0), tq, tf.constant(1)); // [Tq]
        if (in.queryOffset() != null) {
            query = tf.math.add(query, in.queryOffset());
        }
        return tf.math.sub(tf.expandDims(query, tf.constant(-1)),
                tf.expandDims(tf.range(tf.constant(0), tk, tf.constant(1)), tf.constant(0))); // [Tq, Tk]
    }

    /** The scale given, or {@code 1/sqrt(D)}: a constant when {@code D} is known. */
    private static Operand<TFloat32> scale(Ops tf, AttentionInputs in) {
        if (in.scale() != null) {
            return tf.constant(in.scale().floatValue());
        }
        Shape qs = in.query().shape();
        if (!qs.isUnknown() && qs.numDimensions() == 4 && qs.size(3) > 0) {
            return tf.constant((float) (1 / Math.sqrt(qs.size(3))));
        }
        return tf.math.rsqrt(tf.dtypes.cast(size(tf, tf.shape(in.query()), 3), TFloat32.class));
    }

    private static Operand<TInt32> size(Ops tf, Operand<TInt32> shape, int axis) {
        return tf.gather(shape, tf.constant(axis), tf.constant(0)); // []
    }
}
