package org.align4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.DatasetReaderService;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code jsonl} format (TRL's convention): one JSON object per line, UTF-8. Blank lines are skipped; the file is
 * read line by line, never whole.
 *
 * <p>Settings:
 * <ul>
 * <li>{@code skip_malformed} (default false): a malformed line fails the read with a {@link DataException}; when
 * true it is skipped and listed in {@link ReadResult#skipped()}.</li>
 * <li>{@code require} (default none): field names that must hold a string in every record (a list, or one name).</li>
 * <li>{@code field}: the text field of a corpus; when set it is required like the {@code require} fields.</li>
 * </ul>
 * Malformed lines, with the messages they give:
 * <ul>
 * <li>not UTF-8: {@code file:line: field "text": invalid UTF-8 (bytes 0xE9 at byte 12 of the line); save the file
 * as UTF-8} (the field whose string holds the bytes, when they lie in one)</li>
 * <li>not JSON (also trailing data): {@code file:line:column: invalid JSON: ...}</li>
 * <li>a duplicate key: {@code file:line: field "text": duplicate key; an object holds each key once}</li>
 * <li>{@code NaN}, {@code Infinity}: {@code file:line: field "x": expected a finite number, got NaN (JSON has no NaN
 * or Infinity); ...}</li>
 * <li>not an object: {@code file:line: expected a JSON object, got an array}</li>
 * <li>a required field missing, null or not a string: {@code file:line: field "text": expected a string, got null}
 * ({@code got nothing (missing)}, {@code got a number (3)}, ...)</li>
 * </ul>
 * The line-level checks are {@link JsonlFile}'s, shared with {@link StructuredDatasetsImpl}. Values become
 * {@link String}, {@link Number}, {@link Boolean}, {@link java.util.Map} and {@link List}. A field whose value is
 * JSON {@code null} is left out of the record ({@link Record} holds no nulls); nulls inside arrays and objects stay.
 */
@Component(service = DatasetReader.class)
@DatasetReaderService(name = "jsonl")
public final class JsonlReader implements DatasetReader {

    static final String REQUIRE = "require";

    @Override
    public void validate(Settings settings) {
        required(settings);
    }

    /** The fields every record must hold as strings; checks the settings as it reads them. */
    private static Set<String> required(Settings settings) {
        settings.checkKnown(ReaderSettings.SKIP_MALFORMED, REQUIRE, ReaderSettings.FIELD);
        settings.getBoolean(ReaderSettings.SKIP_MALFORMED, false);
        Set<String> required = new LinkedHashSet<>(ReaderSettings.names(settings, REQUIRE));
        if (settings.has(ReaderSettings.FIELD)) {
            required.add(ReaderSettings.field(settings));
        }
        return required;
    }

    @Override
    public ReadResult read(Path file, Settings settings) throws IOException {
        Set<String> required = required(settings);
        boolean skip = settings.getBoolean(ReaderSettings.SKIP_MALFORMED, false);
        List<Record> records = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        JsonlFile.read(file, skip, skipped, (source, line, fields) -> {
            for (String f : required) {
                Object v = fields.get(f);
                if (!(v instanceof String)) {
                    throw new DataException(source, line, "field \"" + f + "\": expected a string, got "
                            + (v != null ? DataException.describe(v)
                                    : fields.containsKey(f) ? "null" : "nothing (missing)"));
                }
            }
            fields.values().removeIf(v -> v == null);
            records.add(new Record(source, line, fields));
        });
        return new ReadResult(records, skipped);
    }
}
