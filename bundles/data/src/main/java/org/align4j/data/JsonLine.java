package org.align4j.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import org.align4j.api.data.DataException;

/**
 * Parses one JSONL line into plain Java values, with the checks every JSONL reader shares, each error naming the
 * field (as a path: {@code messages[2].content}):
 * <ul>
 * <li>not JSON, or more than one value: {@code file:line:column: invalid JSON: ...} ({@link JsonSyntaxException});</li>
 * <li>a duplicate key: {@code file:line: field "prompt": duplicate key; an object holds each key once};</li>
 * <li>{@code NaN}, {@code Infinity}, {@code -Infinity}, or a number too large for a double:
 * {@code file:line: field "score": expected a finite number, got NaN (JSON has no NaN or Infinity)};</li>
 * <li>not an object: {@code file:line: expected a JSON object ({"field": value, ...}), got an array}.</li>
 * </ul>
 * Invalid UTF-8 is caught earlier, by {@link Utf8Lines}; {@link #locate} names the field whose string holds the bad
 * bytes. Values become {@link String}, {@link Integer}/{@link Long}/{@link java.math.BigInteger}, {@link Double},
 * {@link Boolean}, {@link Map} and {@link List}; nested maps and lists are read-only and keep JSON nulls.
 */
final class JsonLine {
    /** NaN and Infinity are parsed (not rejected as syntax) so that the error can name the field holding them. */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final String source;
    private final long line;
    private final String text;
    /** When not negative: only find the string holding this char offset, checking nothing else. */
    private final int probe;
    private String probed;

    private JsonLine(String source, long line, String text, int probe) {
        this.source = source;
        this.line = line;
        this.text = text;
        this.probe = probe;
    }

    /** The line's object as a mutable, ordered map (top-level JSON nulls kept as {@code null} values). */
    static Map<String, Object> object(String source, long line, String text) {
        Object value = new JsonLine(source, line, text, -1).parse();
        if (!(value instanceof Map)) {
            throw new DataException(source, line, "expected a JSON object ({\"field\": value, ...}), got "
                    + DataException.describe(value));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) value;
        return map;
    }

    /**
     * The error {@code e} naming the field whose string (value or key) holds the bad bytes:
     * {@code file:line: field "messages[1].content": invalid UTF-8 (bytes 0xE9 at byte 40 of the line); save the
     * file as UTF-8}; {@code e} itself when they lie outside any string or the line is not JSON.
     */
    static DataException locate(InvalidUtf8Exception e) {
        JsonLine probe = new JsonLine(e.source(), e.line(), e.lenientText(), e.charOffset());
        try {
            probe.parse();
        } catch (DataException ignored) {
            // not JSON beyond the bad bytes: the field may still have been found before the syntax error
        }
        return probe.probed == null ? e : e.inField(probe.probed);
    }

    private Object parse() {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw syntax(p.currentLocation(), "no JSON value");
            }
            Object value = value(p, "");
            if (p.nextToken() != null) {
                throw syntax(p.currentTokenLocation(), "Trailing token (of type " + p.currentToken()
                        + ") found after the value; write one JSON object per line");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw syntax(e.getLocation(), firstLine(e.getOriginalMessage()));
        } catch (IOException e) { // reading a String does not fail otherwise
            throw new DataException(source, line, "cannot parse the line: " + e.getMessage());
        }
    }

    private JsonSyntaxException syntax(JsonLocation at, String problem) {
        long column = at == null ? 1 : Math.max(1, at.getColumnNr());
        return new JsonSyntaxException(source, line, column, "invalid JSON: " + problem);
    }

    /** The value at the current token, {@code path} being its place ({@code ""} at the top). */
    private Object value(JsonParser p, String path) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    String at = path.isEmpty() ? key : path + "." + key;
                    probeString(p, at);
                    if (probe < 0 && map.containsKey(key)) {
                        throw new DataException(source, line, "field \"" + at
                                + "\": duplicate key; an object holds each key once");
                    }
                    p.nextToken();
                    map.put(key, value(p, at));
                }
                return path.isEmpty() ? map : Collections.unmodifiableMap(map);
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(value(p, path + "[" + list.size() + "]"));
                }
                return Collections.unmodifiableList(list);
            }
            case VALUE_STRING:
                probeString(p, path);
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue();
            case VALUE_NUMBER_FLOAT: {
                double d = p.getDoubleValue();
                if (probe < 0 && !Double.isFinite(d) && !path.isEmpty()) {
                    String token = p.getText();
                    throw new DataException(source, line, "field \"" + path + "\": expected a finite number, got "
                            + token + (nonNumeric(token) ? " (JSON has no NaN or Infinity)"
                                    : " (too large for a double)")
                            + "; write a finite number or leave the record out");
                }
                return d;
            }
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw syntax(p.currentTokenLocation(), "unexpected " + p.currentToken());
        }
    }

    private static boolean nonNumeric(String token) {
        return token.matches("[+-]?(NaN|Infinity|INF)");
    }

    /** In probe mode, notes {@code path} when the string token under the parser holds the probed offset. */
    private void probeString(JsonParser p, String path) throws IOException {
        if (probe < 0 || probed != null) {
            return;
        }
        long start = p.currentTokenLocation().getCharOffset();
        p.getText(); // consumes the whole string, so the current location is past its closing quote
        long end = p.currentLocation().getCharOffset();
        if (probe >= start && probe < end) {
            probed = path;
        }
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
}
