package org.align4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * <li>not UTF-8: {@code file:line: invalid UTF-8 (bytes 0xE9 at byte 12 of the line); save the file as UTF-8}</li>
 * <li>not JSON (also trailing data or a duplicate key): {@code file:line:column: invalid JSON: ...}</li>
 * <li>not an object: {@code file:line: expected a JSON object, got an array}</li>
 * <li>a required field missing, null or not a string: {@code file:line: field "text": expected a string, got null}
 * ({@code got nothing (missing)}, {@code got a number (3)}, ...)</li>
 * </ul>
 * Values become {@link String}, {@link Number}, {@link Boolean}, {@link Map} and {@link List}. A field whose value is
 * JSON {@code null} is left out of the record ({@link Record} holds no nulls); nulls inside arrays and objects stay.
 */
@Component(service = DatasetReader.class)
@DatasetReaderService(name = "jsonl")
public final class JsonlReader implements DatasetReader {

    static final String REQUIRE = "require";

    private final ObjectMapper mapper = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

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
        try (Utf8Lines lines = Utf8Lines.open(file)) {
            while (true) {
                try {
                    String text = lines.next();
                    if (text == null) {
                        break;
                    }
                    if (text.isBlank()) {
                        continue;
                    }
                    records.add(parse(lines.name(), lines.lineNumber(), text, required));
                } catch (DataException e) {
                    if (!skip) {
                        throw e;
                    }
                    skipped.add(e.getMessage());
                }
            }
        }
        return new ReadResult(records, skipped);
    }

    private Record parse(String source, long line, String text, Set<String> required) {
        JsonNode node;
        try {
            node = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            long column = at == null ? 1 : Math.max(1, at.getColumnNr());
            throw new JsonSyntaxException(source, line, column, "invalid JSON: " + firstLine(e.getOriginalMessage()));
        }
        Object value = toJava(node);
        if (!(value instanceof Map)) {
            throw new DataException(source, line, "expected a JSON object ({\"field\": value, ...}), got "
                    + DataException.describe(value));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) value;
        for (String f : required) {
            Object v = fields.get(f);
            if (!(v instanceof String)) {
                throw new DataException(source, line, "field \"" + f + "\": expected a string, got "
                        + (v != null ? DataException.describe(v) : fields.containsKey(f) ? "null" : "nothing (missing)"));
            }
        }
        fields.values().removeIf(v -> v == null);
        return new Record(source, line, fields);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        String first = nl < 0 ? s : s.substring(0, nl);
        // Jackson adds where the object started, naming a "source" it has redacted: the file:line:column says it
        return first.replaceAll("\\s*\\(start marker at \\[Source: .*\\)$", "");
    }

    private static Object nested(JsonNode n) {
        Object v = toJava(n);
        if (v instanceof Map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            return Collections.unmodifiableMap(m);
        }
        return v;
    }

    /** Plain Java values of a JSON tree; nested maps and lists are read-only. */
    static Object toJava(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isNumber()) {
            return n.numberValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isArray()) {
            List<Object> list = new ArrayList<>(n.size());
            for (JsonNode e : n) {
                list.add(nested(e));
            }
            return Collections.unmodifiableList(list);
        }
        if (n.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = n.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                map.put(e.getKey(), nested(e.getValue()));
            }
            return map; // mutable at the top level: the caller drops nulls, then Record copies it
        }
        return n.asText(); // binary or POJO nodes do not come out of a parser
    }
}
