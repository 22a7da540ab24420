package org.align4j.api.data;

/** A malformed input: the message starts with {@code file:line:}. */
public class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long line;

    public DataException(String source, long line, String problem) {
        super(source + (line > 0 ? ":" + line : "") + ": " + problem);
        this.source = source;
        this.line = line;
    }

    public String source() {
        return source;
    }

    public long line() {
        return line;
    }

    /** A short description of a JSON value for error messages. */
    public static String describe(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return "a string";
        }
        if (v instanceof Number) {
            return "a number (" + v + ")";
        }
        if (v instanceof Boolean) {
            return "a boolean (" + v + ")";
        }
        if (v instanceof java.util.Map) {
            return "an object";
        }
        if (v instanceof java.util.List) {
            return "an array";
        }
        return v.getClass().getSimpleName();
    }
}
