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
 * Plain stochastic gradient descent: {@code p <- p - lr * g}, where {@code g} is the (clipped) gradient plus
 * {@code weight_decay * p} for parameters that decay (classic L2, default 0). It keeps no state.
 *
 * <pre>
 * optimizer: { name: sgd, lr: 0.1, schedule: constant, clip_norm: 1.0, weight_decay: 0.0 }
 * </pre>
 */
@Component(service = Optimizer.class)
@OptimizerService(name = SgdOptimizer.NAME)
public final class SgdOptimizer implements Optimizer {
    static final String NAME = "sgd";

    @Override
    public void validate(Settings settings) {
        OptimizerSettings.checkKnown(settings);
        OptimizerSettings.clipNorm(settings);
        OptimizerSettings.weightDecay(settings, 0.0);
    }

    @Override
    public OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings) {
        OptimizerSettings.checkKnown(settings);
        double clipNorm = OptimizerSettings.clipNorm(settings);
        double weightDecay = OptimizerSettings.weightDecay(settings, 0.0);

        StepGraph step = StepGraph.begin(tf, NAME, params, grads, learningRate, clipNorm);
        for (int i = 0; i < step.size(); i++) {
            Parameter p = step.param(i);
            Operand<TFloat32> g = step.gradWithL2(i, weightDecay); // same shape as p
            step.write(p.variable(), tf.math.sub(p.variable(), tf.math.mul(step.learningRate(), g)));
        }
        return step.finish();
    }
}
