package org.align4j.api.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor held on the Java heap, row-major: what weights files and checkpoints store.
 */
public final class TensorData {
    private final long[] shape;
    private final float[] values;

    public TensorData(long[] shape, float[] values) {
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        this.values = Objects.requireNonNull(values, "values");
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " values, got " + values.length);
        }
    }

    public long[] shape() {
        return shape.clone();
    }

    /** The values, row-major. Not copied: do not change them. */
    public float[] values() {
        return values;
    }

    public int size() {
        return values.length;
    }

    @Override
    public String toString() {
        return "TensorData" + Arrays.toString(shape);
    }
}
