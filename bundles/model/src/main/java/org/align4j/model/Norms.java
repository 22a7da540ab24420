package org.align4j.model;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;

/**
 * The two normalisations a block may use, over the last axis of {@code x} (any rank). Both are composed from Mean,
 * Sub, Square, Rsqrt, Mul and Add, whose C++ gradients handle any rank.
 */
final class Norms {

    private Norms() {
    }

    /** LayerNorm: {@code (x - mean) / sqrt(var + eps) * gain + bias}, biased variance (as PyTorch and GPT-2). */
    static Operand<TFloat32> layerNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> gain, Operand<TFloat32> bias,
            float eps) {
        Operand<TFloat32> mean = tf.math.mean(x, tf.constant(-1), Mean.keepDims(true)); // [..., 1]
        Operand<TFloat32> centred = tf.math.sub(x, mean); // [..., d]
        Operand<TFloat32> variance = tf.math.mean(tf.math.square(centred), tf.constant(-1),
                Mean.keepDims(true)); // [..., 1]
        Operand<TFloat32> normed = tf.math.mul(centred,
                tf.math.rsqrt(tf.math.add(variance, tf.constant(eps)))); // [..., d]
        return tf.math.add(tf.math.mul(normed, gain), bias); // [..., d]
    }

    /** RMSNorm (Zhang and Sennrich, 2019): {@code x / sqrt(mean(x^2) + eps) * gain}, no centring and no bias. */
    static Operand<TFloat32> rmsNorm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> gain, float eps) {
        Operand<TFloat32> meanSquare = tf.math.mean(tf.math.square(x), tf.constant(-1),
                Mean.keepDims(true)); // [..., 1]
        Operand<TFloat32> normed = tf.math.mul(x,
                tf.math.rsqrt(tf.math.add(meanSquare, tf.constant(eps)))); // [..., d]
        return tf.math.mul(normed, gain); // [..., d]
    }
}
