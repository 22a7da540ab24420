package org.align4j.generate;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@code log softmax(logits)[target]} as the target's logit minus the log-sum-exp of its row (TRL's
 * {@code selective_log_softmax}): no {@code [N, V]} one-hot and no LogSoftmax op (whose C++ gradient is wrong on
 * rank-3 input in TF Java 1.1), and the rows are flattened to {@code [N, V]} first anyway. The target logit is read
 * by one gather on the flattened logits at {@code n * V + target}. The row maximum is held constant
 * ({@code StopGradient}): it only shifts the exponent, so the gradient is exact, {@code onehot - softmax}.
 */
final class TokenLogProbs {
    private TokenLogProbs() {
    }

    /**
     * @param logits {@code [B, T, V]} (any rank {@code >= 2}: the last axis is the vocabulary)
     * @param targets {@code [B, T]} int32 in {@code [0, V)}
     * @return {@code [B, T]}
     */
    static Operand<TFloat32> compute(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets) {
        Operand<TInt32> logitShape = tf.shape(logits); // [3] = (B, T, V)
        Operand<TInt32> v = tf.gather(logitShape, tf.math.sub(tf.size(logitShape), tf.constant(1)),
                tf.constant(0)); // [] V
        Operand<TFloat32> rows = tf.reshape(logits, tf.stack(java.util.List.of(tf.constant(-1), v))); // [N, V]
        Operand<TInt32> flatTargets = tf.reshape(targets, tf.constant(new int[] {-1})); // [N]
        Operand<TInt32> n = tf.gather(tf.shape(flatTargets), tf.constant(0), tf.constant(0)); // [] N
        Operand<TInt32> index = tf.math.add(
                tf.math.mul(tf.range(tf.constant(0), n, tf.constant(1)), v), flatTargets); // [N] n * V + target
        Operand<TFloat32> picked = tf.gather(tf.reshape(rows, tf.constant(new int[] {-1})), index,
                tf.constant(0)); // [N]
        Operand<TInt32> last = tf.constant(new int[] {1});
        Operand<TFloat32> max = tf.stopGradient(tf.reduceMax(rows, last, ReduceMax.keepDims(true))); // [N, 1]
        Operand<TFloat32> sumExp = tf.reduceSum(tf.math.exp(tf.math.sub(rows, max)), last,
                ReduceSum.keepDims(false)); // [N]
        Operand<TFloat32> logSumExp = tf.math.add(tf.reshape(max, tf.constant(new int[] {-1})),
                tf.math.log(sumExp)); // [N]
        return tf.reshape(tf.math.sub(picked, logSumExp), tf.shape(targets)); // [B, T]
    }
}
