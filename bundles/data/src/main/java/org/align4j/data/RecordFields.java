package org.align4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.Content;
import org.align4j.api.data.DataException;
import org.align4j.api.loss.StepLabel;

/**
 * Typed, checked access to the fields of one JSONL record; every failure is a {@link DataException}
 * {@code file:line: field "x": what is wrong}, the field given as a path ({@code messages[2].role}).
 */
final class RecordFields {
    private static final Set<String> ROLES = Set.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT);
    private static final Set<String> MESSAGE_KEYS = Set.of("role", "content");

    private final String source;
    private final long line;
    private final Map<String, Object> fields;
    /** Keys of messages that no format reads, as {@code field[].key}. */
    private final Set<String> unknown;
    /** The kind of the first content field read (a string or a list of messages); the others must match it. */
    private Boolean conversational;
    private String firstContent;

    RecordFields(String source, long line, Map<String, Object> fields, Set<String> unknown) {
        this.source = source;
        this.line = line;
        this.fields = fields;
        this.unknown = unknown;
    }

    DataException error(String field, String problem) {
        return new DataException(source, line, "field \"" + field + "\": " + problem);
    }

    private String got(String field) {
        Object v = fields.get(field);
        return v != null ? DataException.describe(v) : fields.containsKey(field) ? "null" : "nothing (missing)";
    }

    private static String got(Object v) {
        return v == null ? "null" : DataException.describe(v);
    }

    String source() {
        return source;
    }

    long line() {
        return line;
    }

    /** Whether the record holds {@code field} with a value other than null. */
    boolean has(String field) {
        return fields.get(field) != null;
    }

    /** Whether the record holds the key {@code field}, even with null. */
    boolean present(String field) {
        return fields.containsKey(field);
    }

    /** A field that must hold a string. */
    String string(String field) {
        Object v = fields.get(field);
        if (!(v instanceof String)) {
            throw error(field, "expected a string, got " + got(field));
        }
        return (String) v;
    }

    /** A field that must hold a finite number. */
    double number(String field) {
        Object v = fields.get(field);
        if (!(v instanceof Number)) {
            throw error(field, "expected a number, got " + got(field));
        }
        return ((Number) v).doubleValue(); // finite: JsonLine rejects NaN, Infinity and overflow
    }

    /**
     * A prompt or completion: a string, or a list of messages ({@code completionSide}: with an assistant turn). All
     * content fields of one record are of one kind, the kind of the first read.
     */
    Content content(String field, boolean completionSide) {
        Object v = fields.get(field);
        boolean isList = v instanceof List;
        if (conversational == null) {
            if (!(v instanceof String) && !isList) {
                throw error(field, "expected a string or a list of messages, got " + got(field));
            }
            conversational = isList;
            firstContent = field;
        } else if (conversational && !isList) {
            throw error(field, "expected a list of messages (as in \"" + firstContent + "\"), got " + got(field));
        } else if (!conversational && !(v instanceof String)) {
            throw error(field, "expected a string (as in \"" + firstContent + "\"), got " + got(field));
        }
        return isList ? Content.messages(messages(field, completionSide)) : Content.text((String) v);
    }

    /** A non-empty list of messages, with at least one assistant turn when {@code needAssistant}. */
    List<ChatMessage> messages(String field, boolean needAssistant) {
        Object v = fields.get(field);
        if (!(v instanceof List)) {
            throw error(field, "expected a list of messages [{\"role\": ..., \"content\": ...}, ...], got "
                    + got(field));
        }
        List<?> list = (List<?>) v;
        if (list.isEmpty()) {
            throw error(field, "expected at least one message, got an empty list");
        }
        List<ChatMessage> out = new ArrayList<>(list.size());
        boolean assistant = false;
        for (int i = 0; i < list.size(); i++) {
            String at = field + "[" + i + "]";
            Object m = list.get(i);
            if (!(m instanceof Map)) {
                throw error(at, "expected a message {\"role\": ..., \"content\": ...}, got " + got(m));
            }
            Map<?, ?> msg = (Map<?, ?>) m;
            Object role = msg.get("role");
            if (!(role instanceof String)) {
                throw error(at + ".role", "expected a string, got "
                        + (msg.containsKey("role") ? got(role) : "nothing (missing)"));
            }
            if (!ROLES.contains(role)) {
                throw error(at + ".role", "unknown role \"" + role + "\"; expected system, user or assistant");
            }
            Object content = msg.get("content");
            if (!(content instanceof String)) {
                throw error(at + ".content", "expected a string, got "
                        + (msg.containsKey("content") ? got(content) : "nothing (missing)"));
            }
            for (Object key : msg.keySet()) {
                if (!MESSAGE_KEYS.contains(key)) {
                    unknown.add(field + "[]." + key);
                }
            }
            assistant |= role.equals(ChatMessage.ASSISTANT);
            out.add(new ChatMessage((String) role, (String) content));
        }
        if (needAssistant && !assistant) {
            throw error(field, "no assistant turn; a training conversation needs at least one message with "
                    + "\"role\": \"assistant\"");
        }
        return out;
    }

    /** A list (of at least {@code min} items) of what the file holds at {@code field}. */
    List<?> list(String field, String items, int min) {
        Object v = fields.get(field);
        if (!(v instanceof List)) {
            throw error(field, "expected a list of " + items + ", got " + got(field));
        }
        List<?> list = (List<?>) v;
        if (list.isEmpty()) {
            throw error(field, "expected a list of " + (min > 1 ? "at least " + min + " " : "") + items
                    + ", got an empty list");
        }
        if (list.size() < min) {
            throw error(field, "expected a list of at least " + min + " " + items + ", got " + list.size());
        }
        return list;
    }

    /** Completions for a listwise record: strings, or lists of messages (matching the prompt). */
    List<Content> completions(String field) {
        List<?> list = list(field, "completions", 2);
        List<Content> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String at = field + "[" + i + "]";
            Object v = list.get(i);
            if (conversational) {
                if (!(v instanceof List)) {
                    throw error(at, "expected a list of messages (as in \"" + firstContent + "\"), got " + got(v));
                }
                out.add(Content.messages(new RecordFields(source, line, Map.of(at, v), unknown).messages(at, true)));
            } else {
                if (!(v instanceof String)) {
                    throw error(at, "expected a string (as in \"" + firstContent + "\"), got " + got(v));
                }
                out.add(Content.text((String) v));
            }
        }
        return out;
    }

    /** The ranking of {@code n} completions: a permutation of {@code 0..n-1}, best first. */
    int[] ranking(String field, int n, String completions) {
        List<?> list = list(field, "indices into \"" + completions + "\"", 1);
        if (list.size() != n) {
            throw error(field, "expected " + n + " indices (one per completion in \"" + completions
                    + "\", best first), got " + list.size());
        }
        int[] out = new int[n];
        int[] seenAt = new int[n];
        for (int i = 0; i < n; i++) {
            String at = field + "[" + i + "]";
            Object v = list.get(i);
            if (!(v instanceof Integer || v instanceof Long || v instanceof java.math.BigInteger)) {
                throw error(at, "expected a whole number (an index into \"" + completions + "\"), got " + got(v));
            }
            long k = ((Number) v).longValue();
            if (v instanceof java.math.BigInteger || k < 0 || k >= n) {
                throw error(at, "index " + v + " is out of range; \"" + completions + "\" has " + n
                        + " completions (indices 0.." + (n - 1) + ")");
            }
            if (seenAt[(int) k] > 0) {
                throw error(field, "index " + k + " appears twice (at " + (seenAt[(int) k] - 1) + " and " + i
                        + "); a ranking lists each of the " + n + " completions once, best first");
            }
            seenAt[(int) k] = i + 1;
            out[i] = (int) k;
        }
        return out;
    }

    /** A non-empty list of strings (the steps of a process record). */
    List<String> strings(String field, String items) {
        List<?> list = list(field, items, 1);
        List<String> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (!(v instanceof String)) {
                throw error(field + "[" + i + "]", "expected a string, got " + got(v));
            }
            out.add((String) v);
        }
        return out;
    }

    /** Step labels, one per step: {@link StepLabel} constants. */
    int[] labels(String field, int steps, String stepsField) {
        Object v = fields.get(field);
        if (!(v instanceof List)) {
            throw error(field, "expected a list of labels (one per step in \"" + stepsField + "\"), got "
                    + got(field));
        }
        List<?> list = (List<?>) v;
        if (list.size() != steps) {
            throw error(field, "expected " + steps + " labels (one per step in \"" + stepsField + "\"), got "
                    + list.size());
        }
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            Object l = list.get(i);
            if (l == null || "neutral".equals(l)) {
                out[i] = StepLabel.NEUTRAL;
            } else if (Boolean.TRUE.equals(l) || "correct".equals(l)) {
                out[i] = StepLabel.CORRECT;
            } else if (Boolean.FALSE.equals(l) || "incorrect".equals(l)) {
                out[i] = StepLabel.INCORRECT;
            } else {
                throw error(field + "[" + i + "]", "expected true, false, null, \"correct\", \"incorrect\" or "
                        + "\"neutral\", got " + (l instanceof String ? "\"" + l + "\"" : got(l)));
            }
        }
        return out;
    }
}
