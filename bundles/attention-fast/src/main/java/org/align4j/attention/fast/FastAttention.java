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
 * scores  = q' K^T                                     [B, H, Tq, Tk]; with G = H/Hkv query heads per key/value
 *                                                       head: a whole sequence repeats K and V G times (as mha),
 *                                                       cached decoding stacks a group's queries row-wise against
 *                                                       their key/value head, [B, Hkv, G * Tq, Tk], copying no cache
 * scores += bias                                        one add: -1e9 where causality, the window or key padding
 *                                                       hide a key, and ALiBi's -slope * distance; built on
 *                                                       [rows, Tk] (or [B, 1, rows, Tk] with a key mask)
 * weights = softmax(scores)                             (times the 0/1 mask only when a key mask can hide a row)
 * out     = weights V                                   [B, H, Tq, D] (or [B, Hkv, G * Tq, D] viewed so)
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
        Operand<TFloat32> key = in.key(); // [B, Hkv, Tk, D]
        Operand<TFloat32> value = in.value(); // [B, Hkv, Tk, D]
        if (!plain && in.queryOffset() == null) {
            // a whole sequence (training, scoring): one copy of K and V per query head costs less than products of
            // G * Tq rows (measured: bench/run --kernels, attention alone); decoding against a long cache keeps the
            // grouped products below, which copy nothing
            key = repeatHeads(tf, key, group);
            value = repeatHeads(tf, value, group);
            kShape = tf.shape(key);
            plain = true;
        }
        Operand<TInt32> tq = size(tf, qShape, 2); // []
        Operand<TInt32> tk = size(tf, kShape, 2); // []
        Operand<TFloat32> q = tf.math.mul(in.query(), scale(tf, in)); // [B, H, Tq, D]
        Operand<TFloat32> scores; // [B, H, Tq, Tk], or [B, Hkv, G * Tq, Tk] grouped
        Operand<TInt32> rows = tq; // [] query rows per key/value head: Tq, or G * Tq grouped
        if (plain) {
            scores = tf.train.batchMatMul(q, key, TFloat32.class, BatchMatMul.adjY(true));
        } else {
            rows = tf.math.mul(group, tq);
            Operand<TFloat32> grouped = tf.reshape(q, tf.stack(List.of(size(tf, qShape, 0), size(tf, kShape, 1),
                    rows, size(tf, qShape, 3)))); // [B, Hkv, G * Tq, D]: the queries of a group against its keys
            scores = tf.train.batchMatMul(grouped, key, TFloat32.class, BatchMatMul.adjY(true));
        }

        Operand<TInt32> distance = distance(tf, in, rows, tq, tk); // [rows, Tk]
        Operand<TFloat32> allowed = null; // 0/1, broadcast against the scores; null: every key visible
        if (in.causal()) {
            Operand<TBool> visible = tf.math.greaterEqual(distance, tf.constant(0));
            if (in.window() > 0) {
                visible = tf.math.logicalAnd(visible, tf.math.less(distance, tf.constant(in.window())));
            }
            allowed = tf.dtypes.cast(visible, TFloat32.class); // [rows, Tk]
        }
        if (in.keyMask() != null) {
            Operand<TFloat32> keys = tf.expandDims(tf.expandDims(tf.dtypes.cast(tf.math.greater(in.keyMask(),
                    tf.constant(0f)), TFloat32.class), tf.constant(1)), tf.constant(1)); // [B, 1, 1, Tk]
            allowed = allowed == null ? keys : tf.math.mul(keys, allowed); // [B, 1, rows, Tk]
        }
        Operand<TFloat32> bias = allowed == null ? null
                : tf.math.mul(tf.math.sub(allowed, tf.constant(1f)), tf.constant(MASK_PENALTY)); // 0 or -1e9
        if (in.alibiSlopes() != null) {
            Operand<TFloat32> slopes = tf.constant(in.alibiSlopes()); // [H]
            slopes = plain ? tf.reshape(slopes, tf.constant(new int[] {-1, 1, 1})) // [H, 1, 1]
                    : tf.reshape(tf.tile(tf.reshape(slopes, tf.stack(List.of(size(tf, kShape, 1), group,
                            tf.constant(1)))), tf.stack(List.of(tf.constant(1), tf.constant(1), tq))),
                            tf.stack(List.of(size(tf, kShape, 1), rows, tf.constant(1)))); // [Hkv, G * Tq, 1]
            Operand<TFloat32> alibi = tf.math.mul(tf.math.neg(slopes),
                    tf.math.abs(tf.dtypes.cast(distance, TFloat32.class))); // [H | Hkv, rows, Tk]
            bias = bias == null ? alibi : tf.math.add(bias, alibi);
        }
        if (bias != null) {
            scores = tf.math.add(scores, bias); // one pass over the scores
        }
        Operand<TFloat32> weights = tf.nn.softmax(scores);
        if (in.keyMask() != null) {
            weights = tf.math.mul(weights, allowed); // a row that sees only padding becomes 0
        }
        Operand<TFloat32> out = tf.train.batchMatMul(weights, value, TFloat32.class); // [B, H|Hkv, rows, D]
        return plain ? out : tf.reshape(out, qShape); // [B, H, Tq, D]
    }

    /** {@code [B, Hkv, Tk, D]} as {@code [B, Hkv * G, Tk, D]}: key/value head {@code g} serves query heads
     * {@code g*G .. g*G+G-1}. */
    private static Operand<TFloat32> repeatHeads(Ops tf, Operand<TFloat32> x, Operand<TInt32> group) {
        Operand<TInt32> one = tf.constant(1);
        Operand<TInt32> shape = tf.shape(x);
        Operand<TFloat32> copies = tf.tile(tf.expandDims(x, tf.constant(2)),
                tf.stack(List.of(one, one, group, one, one))); // [B, Hkv, G, Tk, D]
        return tf.reshape(copies, tf.stack(List.of(size(tf, shape, 0), tf.constant(-1), size(tf, shape, 2),
                size(tf, shape, 3))));
    }

    /** True when the query and key/value head counts are known and equal. */
    private static boolean sameHeads(AttentionInputs in) {
        Shape qs = in.query().shape();
        Shape ks = in.key().shape();
        return !qs.isUnknown() && !ks.isUnknown() && qs.numDimensions() == 4 && ks.numDimensions() == 4
                && qs.size(1) > 0 && qs.size(1) == ks.size(1);
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

    /**
     * {@code queryOffset + i - j} for each row and key: {@code [rows, Tk]}, row {@code r} holding query
     * {@code i = r mod Tq} (the G query heads of a group are stacked row-wise, each with its Tq queries).
     */
    private static Operand<TInt32> distance(Ops tf, AttentionInputs in, Operand<TInt32> rows, Operand<TInt32> tq,
            Operand<TInt32> tk) {
        Operand<TInt32> query = tf.math.floorMod(tf.range(tf.constant(0), rows, tf.constant(1)), tq); // [rows]
        if (in.queryOffset() != null) {
            query = tf.math.add(query, in.queryOffset());
        }
        return tf.math.sub(tf.expandDims(query, tf.constant(-1)),
                tf.expandDims(tf.range(tf.constant(0), tk, tf.constant(1)), tf.constant(0))); // [rows, Tk]
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
