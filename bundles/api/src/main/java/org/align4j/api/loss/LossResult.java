package org.align4j.api.loss;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * A loss: the scalar to minimise and, optionally, scalar metrics computed alongside it (e.g. {@code accuracy} of a
 * pairwise loss, {@code clipfrac} of PPO), named as TRL names them.
 */
public final class LossResult {
    private final Operand<TFloat32> loss;
    private final Map<String, Operand<TFloat32>> metrics;

    private LossResult(Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    public static LossResult of(Operand<TFloat32> loss) {
        return new LossResult(loss, Map.of());
    }

    public static LossResult of(Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics) {
        return new LossResult(loss, metrics);
    }

    /** Scalar {@code []}: the value to minimise. */
    public Operand<TFloat32> loss() {
        return loss;
    }

    /** Scalar metrics {@code []} by name. */
    public Map<String, Operand<TFloat32>> metrics() {
        return metrics;
    }
}
