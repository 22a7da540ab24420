package org.align4j.model;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small causal attention for the model's tests (the model bundle may not use attention-standard's classes):
 * {@code softmax(Q K^T / sqrt(D) + mask) V} with the causal triangle from a band matrix; with a query offset (a KV
 * cache) the visible keys are {@code j <= offset + i}. Grouped key/value heads ({@code Hkv < H}) without repeating
 * them: the queries are viewed as {@code [B, Hkv, H/Hkv, Tq, D]} (query head {@code h} in group {@code h / (H/Hkv)})
 * and multiplied against {@code [B, Hkv, 1, Tk, D]} by broadcasting. A window keeps the band of {@code W} keys ending
 * at the query; ALiBi slopes add {@code slope * (j - i)} (the key's position less the query's) to the logits.
 */
final class TestAttention implements AttentionKernel {
    private final int headSize;

    TestAttention(int headSize) {
        this.headSize = headSize;
    }

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        if (!in.causal()) {
            throw new UnsupportedOperationException("the test kernel does causal self-attention only");
        }
        Operand<TInt32> qShape = tf.shape(in.query()); // [4] = [B, H, Tq, D]
        Operand<TInt32> hkv = tf.gather(tf.shape(in.key()), tf.constant(1), tf.constant(0)); // []
        Operand<TInt32> group = tf.math.div(tf.gather(qShape, tf.constant(1), tf.constant(0)), hkv); // [] H / Hkv
        Operand<TFloat32> q = tf.reshape(in.query(), tf.stack(java.util.List.of(
                tf.gather(qShape, tf.constant(0), tf.constant(0)), hkv, group,
                tf.gather(qShape, tf.constant(2), tf.constant(0)), tf.constant(headSize)))); // [B, Hkv, G, Tq, D]
        AttentionInputs grouped = AttentionInputs.of(q, tf.expandDims(in.key(), tf.constant(2)),
                tf.expandDims(in.value(), tf.constant(2))); // keys and values [B, Hkv, 1, Tk, D]
        if (in.keyMask() != null) {
            grouped.withKeyMask(in.keyMask());
        }
        if (in.queryOffset() != null) {
            grouped.withQueryOffset(in.queryOffset());
        }
        grouped.withWindow(in.window()).withAlibiSlopes(in.alibiSlopes());
        return tf.reshape(in.queryOffset() != null ? attendCached(tf, grouped) : attendWhole(tf, grouped),
                qShape); // [B, H, Tq, D]
    }

    /** Rank-5 inputs ({@code [B, Hkv, G, T, D]}), no cache. */
    private Operand<TFloat32> attendWhole(Ops tf, AttentionInputs in) {
        Operand<TFloat32> scores = tf.math.mul(
                tf.train.batchMatMul(in.query(), in.key(), TFloat32.class, BatchMatMul.adjY(true)),
                tf.constant((float) (1 / Math.sqrt(headSize)))); // [B, Hkv, G, T, T]
        Operand<TInt32> t = tf.gather(tf.shape(in.query()), tf.constant(3), tf.constant(0));
        Operand<TFloat32> lower = tf.linalg.bandPart(tf.fill(tf.stack(java.util.List.of(t, t)), tf.constant(1f)),
                tf.constant(in.window() > 0 ? in.window() - 1 : -1), tf.constant(0)); // [T, T] the last W keys
        scores = tf.math.add(scores, bias(tf, in, tf.range(tf.constant(0), t, tf.constant(1)), t));
        Operand<TFloat32> visible = lower;
        if (in.keyMask() != null) {
            visible = tf.math.mul(lower, tf.reshape(in.keyMask(), tf.stack(java.util.List.of(
                    tf.gather(tf.shape(in.keyMask()), tf.constant(0), tf.constant(0)), tf.constant(1),
                    tf.constant(1), tf.constant(1), t)))); // [B, 1, 1, T, T]
        }
        scores = tf.math.sub(scores, tf.math.mul(tf.math.sub(tf.constant(1f), visible), tf.constant(1e9f)));
        // times the mask: a query that sees no key at all (padding inside a window of padding) gives zeros
        return tf.train.batchMatMul(tf.math.mul(tf.nn.softmax(scores), visible), in.value(),
                TFloat32.class); // [B, Hkv, G, T, D]
    }

    /** ALiBi's {@code slope[h] * (j - i)} as {@code [1, Hkv, G, Tq, Tk]} (0 without slopes). */
    private static Operand<TFloat32> bias(Ops tf, AttentionInputs in, Operand<TInt32> qPos, Operand<TInt32> tk) {
        if (in.alibiSlopes() == null) {
            return tf.constant(0f);
        }
        Operand<TFloat32> keyLessQuery = tf.dtypes.cast(tf.math.sub(
                tf.expandDims(tf.range(tf.constant(0), tk, tf.constant(1)), tf.constant(0)), // [1, Tk]
                tf.expandDims(qPos, tf.constant(1))), TFloat32.class); // [Tq, Tk]
        Operand<TInt32> hkv = tf.gather(tf.shape(in.key()), tf.constant(1), tf.constant(0));
        Operand<TFloat32> slopes = tf.reshape(tf.constant(in.alibiSlopes()), tf.stack(java.util.List.of(
                tf.constant(1), hkv, tf.constant(-1), tf.constant(1), tf.constant(1)))); // [1, Hkv, G, 1, 1]
        return tf.math.mul(slopes, keyLessQuery); // [1, Hkv, G, Tq, Tk]
    }

    /**
     * Rank-5 inputs as above. Queries at {@code offset + i} over {@code Tk} keys: key {@code j} visible when {@code j <= offset + i} and not
     * padding. A query with no visible key gives zeros.
     */
    private Operand<TFloat32> attendCached(Ops tf, AttentionInputs in) {
        Operand<TFloat32> scores = tf.math.mul(
                tf.train.batchMatMul(in.query(), in.key(), TFloat32.class, BatchMatMul.adjY(true)),
                tf.constant((float) (1 / Math.sqrt(headSize)))); // [B, Hkv, G, Tq, Tk]
        Operand<TInt32> tq = tf.gather(tf.shape(in.query()), tf.constant(3), tf.constant(0));
        Operand<TInt32> tk = tf.gather(tf.shape(in.key()), tf.constant(3), tf.constant(0));
        Operand<TInt32> qPos = tf.math.add(tf.range(tf.constant(0), tq, tf.constant(1)), in.queryOffset()); // [Tq]
        Operand<TInt32> kPos = tf.range(tf.constant(0), tk, tf.constant(1)); // [Tk]
        Operand<TFloat32> visible = tf.dtypes.cast(tf.math.lessEqual(tf.expandDims(kPos, tf.constant(0)),
                tf.expandDims(qPos, tf.constant(1))), TFloat32.class); // [Tq, Tk]
        if (in.window() > 0) {
            visible = tf.math.mul(visible, tf.dtypes.cast(tf.math.greater(tf.expandDims(kPos, tf.constant(0)),
                    tf.expandDims(tf.math.sub(qPos, tf.constant(in.window())), tf.constant(1))),
                    TFloat32.class)); // [Tq, Tk] and j > i - W
        }
        scores = tf.math.add(scores, bias(tf, in, qPos, tk));
        if (in.keyMask() != null) {
            visible = tf.math.mul(visible, tf.expandDims(tf.expandDims(tf.expandDims(in.keyMask(), tf.constant(1)),
                    tf.constant(1)), tf.constant(1))); // [B, 1, 1, Tq, Tk]
        }
        scores = tf.math.sub(scores, tf.math.mul(tf.math.sub(tf.constant(1f), visible), tf.constant(1e9f)));
        return tf.train.batchMatMul(tf.math.mul(tf.nn.softmax(scores), visible), in.value(),
                TFloat32.class); // [B, Hkv, G, Tq, D]
    }
}
