package org.align4j.api.optim;

import java.util.List;

import org.align4j.api.model.Parameter;
import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * An optimizer (SGD, momentum, Adam, AdamW, ...), registered with {@link OptimizerService}. It adds the update of one
 * step to a graph: given the parameters and the gradient of the loss with respect to each, it clips the gradients
 * by their global norm when {@code clip_norm} is set, then updates the parameters in place.
 *
 * <p>Settings (the pipeline's {@code optimizer:} section) every optimizer reads: {@code clip_norm} (0 = off) and
 * {@code weight_decay}; others are the optimizer's own ({@code momentum}, {@code beta1}, {@code beta2},
 * {@code eps}) and an optimizer rejects keys it does not know. The learning rate is an input, fed at each step from a
 * {@link LearningRateSchedule}.
 */
@ConsumerType
public interface Optimizer {

    /** Service property: the name pipelines select the optimizer by. */
    String NAME = "align4j.name";

    /**
     * @param params the variables to update
     * @param tf the scope to build in; pass {@code tf.withControlDependencies(loss, ...)} so that what is fetched in
     *        the same run as the update sees the old values
     * @param grads {@code grads.get(i)} is the gradient of the loss with respect to {@code params.get(i).value()},
     *        same shape
     * @param learningRate scalar {@code []}
     */
    /**
     * Checks {@code settings} (unknown keys, ranges) without building anything, so a pipeline can reject a bad file
     * before it runs. The default accepts everything {@link #build} would.
     */
    default void validate(Settings settings) {
    }

    OptimizerStep build(Ops tf, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, Settings settings);
}
