package org.align4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.DataException;

/**
 * The loop every JSONL reader shares: reads a file line by line ({@link Utf8Lines}: strict UTF-8, BOM and CRLF
 * accepted), skips blank lines, parses each other line into an object ({@link JsonLine}: duplicate keys, NaN and
 * Infinity are errors naming the field; invalid UTF-8 names the field holding the bytes), and hands it on. A
 * {@link DataException} from a line, parsing or the handler, fails the read, or, when {@code skip} is set, is added to
 * {@code skipped} and the loop goes on; a {@link FileError} always fails the read.
 */
final class JsonlFile {

    /** An error about the whole file, found at one line: never skipped. */
    static final class FileError extends DataException {
        private static final long serialVersionUID = 1L;

        FileError(String source, long line, String problem) {
            super(source, line, problem);
        }
    }

    /** Takes one parsed record; may throw {@link DataException} for a malformed one. */
    interface Handler {
        void record(String source, long line, Map<String, Object> fields);
    }

    private JsonlFile() {
    }

    /** @return the number of non-blank lines (records read plus records skipped) */
    static long read(Path file, boolean skip, List<String> skipped, Handler handler) throws IOException {
        long nonBlank = 0;
        try (Utf8Lines lines = Utf8Lines.open(file)) {
            while (true) {
                try {
                    String text;
                    try {
                        text = lines.next();
                    } catch (InvalidUtf8Exception e) {
                        nonBlank++;
                        throw JsonLine.locate(e);
                    }
                    if (text == null) {
                        break;
                    }
                    if (text.isBlank()) {
                        continue;
                    }
                    nonBlank++;
                    handler.record(lines.name(), lines.lineNumber(),
                            JsonLine.object(lines.name(), lines.lineNumber(), text));
                } catch (DataException e) {
                    if (!skip || e instanceof FileError) {
                        throw e;
                    }
                    skipped.add(e.getMessage());
                }
            }
        }
        return nonBlank;
    }
}
