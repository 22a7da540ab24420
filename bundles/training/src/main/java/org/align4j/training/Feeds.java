package org.align4j.training;

import java.util.ArrayList;
import java.util.List;

import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The tensors fed to placeholders for one graph run. It owns them: closing it closes every tensor, so a method
 * returns a fresh {@code Feeds} per step and the loop closes it after the run.
 */
public final class Feeds implements AutoCloseable {
    private final List<Operand<?>> targets = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    /** Feeds {@code tensor} (owned from now on) to {@code placeholder}. */
    public Feeds put(Operand<?> placeholder, Tensor tensor) {
        targets.add(placeholder);
        tensors.add(tensor);
        return this;
    }

    /** Row-major {@code values} of shape {@code [rows, values.length / rows]}. */
    public Feeds ints(Operand<TInt32> placeholder, int rows, int[] values) {
        return put(placeholder, TInt32.tensorOf(Shape.of(rows, values.length / Math.max(rows, 1)),
                DataBuffers.of(values, true, false)));
    }

    /** Row-major {@code values} of shape {@code [rows, values.length / rows]}. */
    public Feeds floats(Operand<TFloat32> placeholder, int rows, float[] values) {
        return put(placeholder, TFloat32.tensorOf(Shape.of(rows, values.length / Math.max(rows, 1)),
                DataBuffers.of(values, true, false)));
    }

    /** {@code values} of any shape. */
    public Feeds floats(Operand<TFloat32> placeholder, Shape shape, float[] values) {
        return put(placeholder, TFloat32.tensorOf(shape, DataBuffers.of(values, true, false)));
    }

    public Feeds scalar(Operand<TFloat32> placeholder, float value) {
        return put(placeholder, TFloat32.scalarOf(value));
    }

    /** Adds every feed to {@code runner}; returns it. */
    public Session.Runner feed(Session.Runner runner) {
        for (int i = 0; i < targets.size(); i++) {
            runner.feed(targets.get(i), tensors.get(i));
        }
        return runner;
    }

    @Override
    public void close() {
        tensors.forEach(Tensor::close);
        tensors.clear();
        targets.clear();
    }
}
