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
 * are computed in float64 (in float32, {@code 1 - 0.999f} is already 1.3e-5 off) and folded into the step size and
 * epsilon, so each parameter's update is one fused ApplyAdam kernel (one pass over p, m, v and g instead of a dozen
 * element-wise ops), preceded for decayed AdamW parameters by one ApplyGradientDescent of {@code lr * wd * p}. The
 * kernel holds beta1 and beta2 in float32 (0.999 is 0.99900001287 there), and so do the moments' updates. State:
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
        Operand<TFloat64> bc1 = tf.math.sub(tf.constant(1.0), tf.math.pow(tf.constant(beta1), t64)); // []
        Operand<TFloat64> bc2 = tf.math.sub(tf.constant(1.0), tf.math.pow(tf.constant(beta2), t64)); // []
        Operand<TFloat64> rootBc2 = tf.math.sqrt(bc2); // []
        // lr * m_hat / (sqrt(v_hat) + eps) = lr' * m / (sqrt(v) + eps') with lr' = lr sqrt(bc2) / bc1 and
        // eps' = eps sqrt(bc2): the bias corrections folded into two scalars (in float64), so one fused ApplyAdam
        // (whose own corrections are switched off with beta powers of 0) does the whole element-wise update
        Operand<TFloat32> stepSize = tf.dtypes.cast(tf.math.div(tf.math.mul(tf.dtypes.cast(step.learningRate(),
                TFloat64.class), rootBc2), bc1), TFloat32.class); // []
        Operand<TFloat32> epsilon = tf.dtypes.cast(tf.math.mul(tf.constant(eps), rootBc2), TFloat32.class); // []
        Operand<TFloat32> zero = step.constant(0); // []: beta1^t and beta2^t as ApplyAdam sees them
        Operand<TFloat32> b1 = step.constant(beta1); // []
        Operand<TFloat32> b2 = step.constant(beta2); // []
        Operand<TFloat32> decayStep = tf.math.mul(step.learningRate(), step.constant(weightDecay)); // [] lr * wd
        step.write(counter.variable(), t);

        for (int i = 0; i < step.size(); i++) {
            Parameter p = step.param(i);
            Parameter mSlot = step.slot("m", p);
            Parameter vSlot = step.slot("v", p);
            Operand<TFloat32> g = decoupled ? step.grad(i) : step.gradWithL2(i, weightDecay); // same shape as p
            boolean decays = decoupled && weightDecay != 0 && p.decay();
            step.inPlace(after -> {
                Ops adam = after;
                if (decays) { // p <- p - lr wd p first, then the Adam step: p - lr (u + wd p) of the old p
                    adam = after.withControlDependencies(List.of(after.train.applyGradientDescent(p.variable(),
                            decayStep, p.variable())));
                }
                return adam.train.applyAdam(p.variable(), mSlot.variable(), vSlot.variable(), zero, zero,
                        stepSize, b1, b2, epsilon, g);
            });
        }
        return step.finish();
    }
}
