package org.align4j.api.data;

import java.util.Map;
import java.util.Objects;

/**
 * One example of a dataset with the place it came from, so every later error can point at {@code file:line}.
 */
public final class Record {
    private final String source;
    private final long line;
    private final Map<String, Object> fields;

    public Record(String source, long line, Map<String, Object> fields) {
        this.source = Objects.requireNonNull(source, "source");
        this.line = line;
        this.fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields)); // JSON nulls kept
    }

    /** The file the record came from. */
    public String source() {
        return source;
    }

    /** 1-based line number in {@link #source()}. */
    public long line() {
        return line;
    }

    public Map<String, Object> fields() {
        return fields;
    }

    /** {@code file:line} */
    public String location() {
        return source + ":" + line;
    }

    /** A field that must be a string; fails with {@code file:line: field "x": expected a string, got ...}. */
    public String text(String field) {
        Object v = fields.get(field);
        if (v instanceof String) {
            return (String) v;
        }
        throw new DataException(source, line, "field \"" + field + "\": expected a string, got "
                + (v == null ? (fields.containsKey(field) ? "null" : "nothing (missing)") : DataException.describe(v)));
    }
}
