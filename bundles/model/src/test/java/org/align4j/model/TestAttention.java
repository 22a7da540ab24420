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
 * {@code softmax(Q K^T / sqrt(D) + mask) V} with the causal triangle from a band matrix, for {@code H == Hkv} and no
 * cache.
 */
final class TestAttention implements AttentionKernel {
    private final int headSize;

    TestAttention(int headSize) {
        this.headSize = headSize;
    }

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        if (in.queryOffset() != null || !in.causal()) {
            throw new UnsupportedOperationException("the test kernel does causal self-attention only");
        }
        Operand<TFloat32> scores = tf.math.mul(
                tf.train.batchMatMul(in.query(), in.key(), TFloat32.class, BatchMatMul.adjY(true)),
                tf.constant((float) (1 / Math.sqrt(headSize)))); // [B, H, T, T]
        Operand<TInt32> t = tf.gather(tf.shape(in.query()), tf.constant(2), tf.constant(0));
        Operand<TFloat32> lower = tf.linalg.bandPart(
                tf.fill(tf.stack(java.util.List.of(t, t)), tf.constant(1f)), tf.constant(-1), tf.constant(0)); // [T, T]
        Operand<TFloat32> visible = lower;
        if (in.keyMask() != null) {
            visible = tf.math.mul(lower, tf.reshape(in.keyMask(), tf.stack(java.util.List.of(
                    tf.gather(tf.shape(in.keyMask()), tf.constant(0), tf.constant(0)), tf.constant(1),
                    tf.constant(1), t)))); // [B, 1, T, T]
        }
        scores = tf.math.sub(scores, tf.math.mul(tf.math.sub(tf.constant(1f), visible), tf.constant(1e9f)));
        return tf.train.batchMatMul(tf.nn.softmax(scores), in.value(), TFloat32.class); // [B, H, T, D]
    }
}
