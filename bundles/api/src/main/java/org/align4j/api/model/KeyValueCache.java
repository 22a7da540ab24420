package org.align4j.api.model;

import java.util.List;
import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The keys and values of every block of a {@link Transformer} for the tokens fed so far: one key and one value
 * operand per block, each {@code [B, Hkv, P, D]} ({@code Hkv} key/value heads, {@code P} cached slots, {@code D} head
 * size). {@code P} may be 0. Slot {@code j} of a row is the {@code j}-th token fed for it, padding included, so a key
 * mask over the cache has {@code P} columns.
 */
public final class KeyValueCache {
    private final List<Operand<TFloat32>> keys;
    private final List<Operand<TFloat32>> values;

    /** @param keys one per block, in block order; {@code values} likewise */
    public KeyValueCache(List<Operand<TFloat32>> keys, List<Operand<TFloat32>> values) {
        this.keys = List.copyOf(Objects.requireNonNull(keys, "keys"));
        this.values = List.copyOf(Objects.requireNonNull(values, "values"));
        if (this.keys.size() != this.values.size()) {
            throw new IllegalArgumentException("a key/value cache needs as many values as keys, got "
                    + this.keys.size() + " keys and " + this.values.size() + " values");
        }
    }

    /** The number of blocks. */
    public int layers() {
        return keys.size();
    }

    /** {@code [B, Hkv, P, D]} per block. */
    public List<Operand<TFloat32>> keys() {
        return keys;
    }

    /** {@code [B, Hkv, P, D]} per block. */
    public List<Operand<TFloat32>> values() {
        return values;
    }
}
