package org.align4j.optimizers;

import java.util.List;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerService;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * SGD with heavy-ball momentum (Polyak 1964; Sutskever et al. 2013 for the Nesterov form), as PyTorch writes it:
 * <pre>
 * v &lt;- momentum * v + g
 * p &lt;- p - lr * v                      (nesterov: false)
 * p &lt;- p - lr * (g + momentum * v)     (nesterov: true, with the new v)
 * </pre>
 * {@code g} is the (clipped) gradient plus {@code weight_decay * p} for parameters that decay (classic L2, default
 * 0). State: {@code optimizer.momentum.velocity.<param>}.
 *
 * <pre>
 * optimizer: { name: momentum, lr: 0.05, momentum: 0.9, nesterov: true, schedule: cosine, warmup: 100 }
 * </pre>
 */
@Component(service = Optimizer.class)
@OptimizerService(name = MomentumOptimizer.NAME)
public final class MomentumOptimizer implements Optimizer {
    static final String NAME = "momentum";

    @Override
    public void validate(Settings settings) {
        OptimizerSettings.checkKnown(settings, "momentum", "nesterov");
        OptimizerSettings.clipNorm(settings);
        OptimizerSettings.weightDecay(settings, 0.0);
        OptimizerSettings.decayRate(settings, "momentum", 0.9);
        settings.getBoolean("nesterov", false);
    }

    @Override
    public OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings) {
        OptimizerSettings.checkKnown(settings, "momentum", "nesterov");
        double clipNorm = OptimizerSettings.clipNorm(settings);
        double weightDecay = OptimizerSettings.weightDecay(settings, 0.0);
        double momentum = OptimizerSettings.decayRate(settings, "momentum", 0.9);
        boolean nesterov = settings.getBoolean("nesterov", false);

        StepGraph step = StepGraph.begin(tf, NAME, params, grads, learningRate, clipNorm);
        Operand<TFloat32> mu = step.constant(momentum); // []
        for (int i = 0; i < step.size(); i++) {
            Parameter p = step.param(i);
            Parameter velocity = step.slot("velocity", p);
            Operand<TFloat32> g = step.gradWithL2(i, weightDecay); // same shape as p
            Operand<TFloat32> v = tf.math.add(tf.math.mul(mu, velocity.variable()), g); // same shape as p
            Operand<TFloat32> direction = nesterov ? tf.math.add(g, tf.math.mul(mu, v)) : v; // same shape as p
            step.write(velocity.variable(), v);
            step.write(p.variable(), tf.math.sub(p.variable(), tf.math.mul(step.learningRate(), direction)));
        }
        return step.finish();
    }
}
