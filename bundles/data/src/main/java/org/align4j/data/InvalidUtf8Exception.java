package org.align4j.data;

import java.nio.charset.StandardCharsets;

import org.align4j.api.data.DataException;

/**
 * A line that is not UTF-8: {@code file:line: invalid UTF-8 (bytes 0xE9 at byte 12 of the line); save the file as
 * UTF-8}. Keeps the line's bytes, so a JSONL reader can name the field whose string holds the bad bytes
 * ({@link JsonLine#locate}).
 */
final class InvalidUtf8Exception extends DataException {
    private static final long serialVersionUID = 1L;

    private final transient byte[] bytes;
    private final int at;
    private final String hex;

    /** {@code bytes}: the line without BOM or line end; {@code at}: the 0-based offset of the first bad byte. */
    InvalidUtf8Exception(String source, long line, byte[] bytes, int at, String hex) {
        super(source, line, problem(null, hex, at));
        this.bytes = bytes;
        this.at = at;
        this.hex = hex;
    }

    static String problem(String field, String hex, int at) {
        return (field == null ? "" : "field \"" + field + "\": ") + "invalid UTF-8 (bytes " + hex + " at byte "
                + (at + 1) + " of the line); save the file as UTF-8";
    }

    /** The same error, naming the field that holds the bytes. */
    DataException inField(String field) {
        return new DataException(source(), line(), problem(field, hex, at));
    }

    /** The line decoded with each bad sequence replaced by U+FFFD. */
    String lenientText() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The character offset in {@link #lenientText()} of the first bad byte (everything before it decodes). */
    int charOffset() {
        return new String(bytes, 0, at, StandardCharsets.UTF_8).length();
    }
}
