package org.align4j.api.model;

import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A trainable (or state) variable of a graph with the name it is saved under, e.g.
 * {@code model.blocks.0.attn.q.weight}. {@code decay} tells an optimizer with weight decay whether to decay it
 * (weights of matmuls: yes; biases, norm gains and embeddings of positions: no).
 */
public final class Parameter {
    private final String name;
    private final Variable<TFloat32> variable;
    private final Shape shape;
    private final boolean decay;
    private final Operand<TFloat32> value;

    /** A variable read directly (optimizer state, which no gradient is taken of). */
    public Parameter(String name, Variable<TFloat32> variable, Shape shape, boolean decay) {
        this(name, variable, variable, shape, decay);
    }

    /**
     * @param value the read of {@code variable} the forward pass uses ({@code tf.identity(variable)}): gradients are
     *        taken with respect to it, never to the variable itself (that crashes TensorFlow's C gradient builder)
     */
    public Parameter(String name, Variable<TFloat32> variable, Operand<TFloat32> value, Shape shape, boolean decay) {
        this.name = Objects.requireNonNull(name, "name");
        this.variable = Objects.requireNonNull(variable, "variable");
        this.value = Objects.requireNonNull(value, "value");
        this.shape = Objects.requireNonNull(shape, "shape");
        this.decay = decay;
    }

    /** The read of the variable the forward pass is built on; take gradients with respect to this. */
    public Operand<TFloat32> value() {
        return value;
    }

    public String name() {
        return name;
    }

    public Variable<TFloat32> variable() {
        return variable;
    }

    public Shape shape() {
        return shape;
    }

    public boolean decay() {
        return decay;
    }

    @Override
    public String toString() {
        return name + shape;
    }
}
