package org.align4j.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from non-negative {@code long} keys (token pairs packed as {@code left << 32 | right})
 * to {@code long} values, without boxing. Entries are never removed (a count that drops to zero stays as zero).
 */
final class LongLongMap {
    private static final long EMPTY = -1L;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    LongLongMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    static int left(long pair) {
        return (int) (pair >>> 32);
    }

    static int right(long pair) {
        return (int) pair;
    }

    int size() {
        return size;
    }

    long get(long key, long missing) {
        int i = slot(key);
        return keys[i] == EMPTY ? missing : values[i];
    }

    /** Sets {@code key} to {@code value} unless it is present; returns whether it was added. */
    boolean putIfAbsent(long key, long value) {
        int i = slot(key);
        if (keys[i] != EMPTY) {
            return false;
        }
        insert(i, key, value);
        return true;
    }

    /** Adds {@code delta} to the value of {@code key} (0 when absent) and returns the new value. */
    long add(long key, long delta) {
        int i = slot(key);
        if (keys[i] == EMPTY) {
            insert(i, key, delta);
            return delta;
        }
        return values[i] += delta;
    }

    /** Calls {@code action} with every key, in slot order. */
    void forEachKey(java.util.function.LongConsumer action) {
        for (long k : keys) {
            if (k != EMPTY) {
                action.accept(k);
            }
        }
    }

    private void insert(int i, long key, long value) {
        keys[i] = key;
        values[i] = value;
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    private int slot(long key) {
        int i = hash(key) & mask;
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != EMPTY) {
                int i = slot(oldKeys[j]);
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static int hash(long key) {
        long z = key * 0x9E3779B97F4A7C15L;
        z ^= z >>> 29;
        return (int) (z ^ (z >>> 32));
    }
}
