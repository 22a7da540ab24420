package org.align4j.pipeline.internal;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** An optimizer whose only part the pipeline calls, {@link #validate}, checks its keys as a real one does. */
final class RecordingOptimizer implements Optimizer {
    final List<Settings> validated = new ArrayList<>();

    @Override
    public void validate(Settings settings) {
        validated.add(settings);
        settings.checkKnown("name", "lr", "schedule", "warmup", "min_lr", "clip_norm", "weight_decay");
    }

    @Override
    public OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings) {
        throw new UnsupportedOperationException("the pipeline never builds graphs");
    }
}
