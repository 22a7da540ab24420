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
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization"): Adam on the gradient alone, with the
 * weight decay applied to the parameter directly, {@code p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + wd * p)}, for
 * the parameters that decay only; see {@link AdamUpdate}. {@code weight_decay} defaults to 0.01.
 *
 * <pre>
 * optimizer: { name: adamw, lr: 3.0e-4, weight_decay: 0.1, warmup: 100, schedule: cosine, clip_norm: 1.0 }
 * </pre>
 */
@Component(service = Optimizer.class)
@OptimizerService(name = AdamWOptimizer.NAME)
public final class AdamWOptimizer implements Optimizer {
    static final String NAME = "adamw";

    @Override
    public void validate(Settings settings) {
        new AdamUpdate.Hyper(settings, 0.01);
    }

    @Override
    public OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings) {
        return AdamUpdate.build(tf, NAME, params, grads, learningRate, settings, true, 0.01);
    }
}
