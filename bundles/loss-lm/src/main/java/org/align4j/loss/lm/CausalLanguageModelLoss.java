package org.align4j.loss.lm;

import java.util.List;
import java.util.Map;

import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.metrics.MetricNames;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Next-token cross-entropy, averaged over the valid tokens of the batch:
 *
 * <pre>
 * nll[b, t] = -log softmax(logits[b, t])[targets[b, t]]
 *           = -sum_v one_hot(targets)[b, t, v] * log_softmax(logits)[b, t, v]
 * loss      = sum(mask * nll) / max(sum(mask), 1)
 * </pre>
 *
 * Composed from OneHot, LogSoftmax, Mul and Sum, which all have gradients in TensorFlow's C++ registry
 * ({@code SparseSoftmaxCrossEntropyWithLogits} has none). The logits are flattened to {@code [B*T, V]} first: the C++
 * gradient of LogSoftmax (TF 2.18) reduces over axis 1, which is the class axis only for rank-2 inputs; on
 * {@code [B, T, V]} it silently gives a wrong gradient. Masked positions add nothing to the loss or to its gradient,
 * whatever their targets hold: a target outside {@code [0, V)} (such as an ignore index of {@code -100}) gives an
 * all-zero one-hot row, and the mask multiplies the rest. An all-zero mask gives a loss of 0, not NaN.
 *
 * <p>Metric {@value MetricNames#NUM_TOKENS}: {@code sum(mask)}, the number of tokens the mean is over.
 */
@Component
@LossService(name = "causal-lm", family = LossFamily.LANGUAGE_MODEL)
public final class CausalLanguageModelLoss implements LanguageModelLoss {

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets, Operand<TFloat32> mask) {
        Operand<TInt32> vocab = vocabSize(tf, logits); // [] V
        Operand<TInt32> flat = tf.constant(new int[] {-1});
        // rank 2 on purpose: TensorFlow's C++ gradient of LogSoftmax sums over axis 1, right only for [N, V]
        Operand<TFloat32> rows = tf.reshape(logits, tf.stack(List.of(tf.constant(-1), vocab))); // [N, V], N = B * T
        Operand<TFloat32> logProbs = tf.nn.logSoftmax(rows); // [N, V]
        Operand<TFloat32> oneHot = tf.oneHot(tf.reshape(targets, flat), vocab, tf.constant(1f),
                tf.constant(0f)); // [N, V] all zero where the target is outside [0, V)
        Operand<TFloat32> nll = tf.math.neg(
                tf.reduceSum(tf.math.mul(oneHot, logProbs), tf.constant(1))); // [N]
        Operand<TFloat32> weights = tf.reshape(mask, flat); // [N]
        Operand<TFloat32> numTokens = tf.reduceSum(weights, tf.constant(0)); // []
        Operand<TFloat32> total = tf.reduceSum(tf.math.mul(weights, nll), tf.constant(0)); // []
        Operand<TFloat32> loss = tf.math.div(total, tf.math.maximum(numTokens, tf.constant(1f))); // []
        return LossResult.of(loss, Map.of(MetricNames.NUM_TOKENS, numTokens));
    }

    /** {@code V}, static when the logits' last dimension is known. */
    private static Operand<TInt32> vocabSize(Ops tf, Operand<TFloat32> logits) {
        Shape s = logits.shape();
        if (!s.isUnknown() && s.numDimensions() == 3 && s.size(2) > 0) {
            return tf.constant((int) s.size(2)); // []
        }
        return tf.gather(tf.shape(logits), tf.constant(2), tf.constant(0)); // []
    }
}
