package org.align4j.optimizers;

import java.util.List;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * The Adam step (Kingma &amp; Ba 2015, Algorithm 1) shared by {@link AdamOptimizer} and {@link AdamWOptimizer}:
 * <pre>
 * t &lt;- t + 1
 * m &lt;- beta1 * m + (1 - beta1) * g
 * v &lt;- beta2 * v + (1 - beta2) * g^2
 * u  = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * p &lt;- p - lr * u                    (adam:  g includes weight_decay * p, coupled L2)
 * p &lt;- p - lr * (u + wd * p)         (adamw: decoupled, Loshchilov &amp; Hutter 2019)
 * </pre>
 * Weight decay applies only to parameters with {@link Parameter#decay()}. The bias corrections {@code 1 - beta^t}
 * are computed in float64 (in float32, {@code 1 - 0.999f} is already 1.3e-5 off). State:
 * {@code optimizer.<name>.m.<param>}, {@code optimizer.<name>.v.<param>} and {@code optimizer.<name>.step}, the
 * number of steps taken (float32, exact up to 2^24 steps).
 */
final class AdamUpdate {
    private AdamUpdate() {
    }

    /** The settings of Adam and AdamW, checked (unknown keys, ranges) as they are read. */
    static final class Hyper {
        final double clipNorm;
        final double weightDecay;
        final double beta1;
        final double beta2;
        final double eps;

        Hyper(Settings settings, double defaultWeightDecay) {
            OptimizerSettings.checkKnown(settings, "beta1", "beta2", "eps");
            clipNorm = OptimizerSettings.clipNorm(settings);
            weightDecay = OptimizerSettings.weightDecay(settings, defaultWeightDecay);
            beta1 = OptimizerSettings.decayRate(settings, "beta1", 0.9);
            beta2 = OptimizerSettings.decayRate(settings, "beta2", 0.999);
            eps = OptimizerSettings.positive(settings, "eps", 1e-8);
        }
    }

    /** @param decoupled AdamW's decoupled weight decay instead of Adam's L2 term in the gradient */
    static OptimizerStep build(Ops tf, String name, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings, boolean decoupled, double defaultWeightDecay) {
        Hyper h = new Hyper(settings, defaultWeightDecay);
        double clipNorm = h.clipNorm;
        double weightDecay = h.weightDecay;
        double beta1 = h.beta1;
        double beta2 = h.beta2;
        double eps = h.eps;

        StepGraph step = StepGraph.begin(tf, name, params, grads, learningRate, clipNorm);
        Parameter counter = step.scalar("step");
        Operand<TFloat32> t = tf.math.add(counter.variable(), step.constant(1)); // []
        Operand<TFloat64> t64 = tf.dtypes.cast(t, TFloat64.class); // []
        Operand<TFloat32> bc1 = tf.dtypes.cast(
                tf.math.sub(tf.constant(1.0), tf.math.pow(tf.constant(beta1), t64)), TFloat32.class); // []
        Operand<TFloat32> bc2 = tf.dtypes.cast(
                tf.math.sub(tf.constant(1.0), tf.math.pow(tf.constant(beta2), t64)), TFloat32.class); // []
        Operand<TFloat32> b1 = step.constant(beta1); // []
        Operand<TFloat32> b2 = step.constant(beta2); // []
        Operand<TFloat32> oneMinusB1 = step.constant(1 - beta1); // []
        Operand<TFloat32> oneMinusB2 = step.constant(1 - beta2); // []
        Operand<TFloat32> epsilon = step.constant(eps); // []
        Operand<TFloat32> wd = step.constant(weightDecay); // []
        step.write(counter.variable(), t);

        for (int i = 0; i < step.size(); i++) {
            Parameter p = step.param(i);
            Parameter mSlot = step.slot("m", p);
            Parameter vSlot = step.slot("v", p);
            Operand<TFloat32> g = decoupled ? step.grad(i) : step.gradWithL2(i, weightDecay); // same shape as p
            Operand<TFloat32> m = tf.math.add(tf.math.mul(b1, mSlot.variable()),
                    tf.math.mul(oneMinusB1, g)); // same shape as p
            Operand<TFloat32> v = tf.math.add(tf.math.mul(b2, vSlot.variable()),
                    tf.math.mul(oneMinusB2, tf.math.square(g))); // same shape as p
            Operand<TFloat32> mHat = tf.math.div(m, bc1); // same shape as p
            Operand<TFloat32> vHat = tf.math.div(v, bc2); // same shape as p
            Operand<TFloat32> u = tf.math.div(mHat, tf.math.add(tf.math.sqrt(vHat), epsilon)); // same shape as p
            if (decoupled && weightDecay != 0 && p.decay()) {
                u = tf.math.add(u, tf.math.mul(wd, p.variable())); // same shape as p
            }
            step.write(mSlot.variable(), m);
            step.write(vSlot.variable(), v);
            step.write(p.variable(), tf.math.sub(p.variable(), tf.math.mul(step.learningRate(), u)));
        }
        return step.finish();
    }
}
