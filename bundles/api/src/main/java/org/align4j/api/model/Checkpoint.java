package org.align4j.api.model;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a trainer needs to resume exactly: every variable (model and optimizer state) by name, the step reached, and
 * free-form state such as the data position and the random generators' state.
 */
public final class Checkpoint {
    private final long step;
    private final Map<String, TensorData> tensors;
    private final Map<String, String> state;
    private final Path location;

    public Checkpoint(long step, Map<String, TensorData> tensors, Map<String, String> state, Path location) {
        this.step = step;
        this.tensors = Map.copyOf(tensors);
        this.state = Map.copyOf(state);
        this.location = location;
    }

    public long step() {
        return step;
    }

    public Map<String, TensorData> tensors() {
        return tensors;
    }

    public Map<String, String> state() {
        return state;
    }

    /** Where it was read from or written to; {@code null} before it is saved. */
    public Path location() {
        return location;
    }
}
