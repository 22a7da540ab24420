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
 * Adam (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization") with bias correction; see
 * {@link AdamUpdate} for the maths. {@code weight_decay} (default 0) is the classic, coupled L2 term: it is added to
 * the (clipped) gradient, {@code g + weight_decay * p}, of the parameters that decay, before the moments.
 *
 * <pre>
 * optimizer: { name: adam, lr: 1.0e-3, beta1: 0.9, beta2: 0.999, eps: 1.0e-8, clip_norm: 1.0 }
 * </pre>
 */
@Component(service = Optimizer.class)
@OptimizerService(name = AdamOptimizer.NAME)
public final class AdamOptimizer implements Optimizer {
    static final String NAME = "adam";

    @Override
    public void validate(Settings settings) {
        new AdamUpdate.Hyper(settings, 0.0);
    }

    @Override
    public OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings) {
        return AdamUpdate.build(tf, NAME, params, grads, learningRate, settings, false, 0.0);
    }
}
