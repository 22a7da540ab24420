package org.align4j.data;

import org.align4j.api.data.DataException;

/**
 * A line that is not JSON. A {@link DataException} whose message also names the column:
 * {@code file:line:column: invalid JSON: ...}.
 */
final class JsonSyntaxException extends DataException {
    private static final long serialVersionUID = 1L;

    private final long column;
    private final String message;

    JsonSyntaxException(String source, long line, long column, String problem) {
        super(source, line, problem);
        this.column = column;
        this.message = source + ":" + line + ":" + column + ": " + problem;
    }

    /** 1-based character column in the line. */
    long column() {
        return column;
    }

    @Override
    public String getMessage() {
        return message;
    }
}
