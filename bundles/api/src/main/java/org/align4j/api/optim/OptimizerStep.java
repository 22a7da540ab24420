package org.align4j.api.optim;

import java.util.List;
import java.util.Objects;

import org.align4j.api.model.Parameter;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;

/**
 * What {@link Optimizer#build} adds to a graph: the op that applies one update, the optimizer's own state variables
 * (moments, step counter: a checkpoint saves them so a resumed run continues exactly), and the global gradient norm
 * before clipping (a scalar, for the {@code grad_norm} metric).
 *
 * <p>State variables start at their initial values through graph initializers, which TF Java runs once per
 * {@link org.tensorflow.Session} before its first run; assigning restored values afterwards (even in the first run)
 * keeps them. {@code Session.forceInitialize()} would reset them.
 */
public final class OptimizerStep {
    private final Op update;
    private final List<Parameter> state;
    private final Operand<TFloat32> gradNorm;

    public OptimizerStep(Op update, List<Parameter> state, Operand<TFloat32> gradNorm) {
        this.update = Objects.requireNonNull(update, "update");
        this.state = List.copyOf(state);
        this.gradNorm = Objects.requireNonNull(gradNorm, "gradNorm");
    }

    public Op update() {
        return update;
    }

    public List<Parameter> state() {
        return state;
    }

    public Operand<TFloat32> gradNorm() {
        return gradNorm;
    }
}
