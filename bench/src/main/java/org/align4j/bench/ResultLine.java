package org.align4j.bench;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one machine-readable line a child JVM prints on standard output: a prefix, then a JSON object on the same
 * line, e.g. {@code ALIGN4J-BENCH-RESULT {"side":"plain","step_tokens_per_second":[812.5,1024.1]}}.
 */
public final class ResultLine {
    public static final String PREFIX = "ALIGN4J-BENCH-RESULT ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ResultLine() {
    }

    public static String format(Map<String, ?> fields) {
        try {
            return PREFIX + JSON.writeValueAsString(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("result line: cannot write " + fields + " as JSON: " + e.getMessage(),
                    e);
        }
    }

    /**
     * The object of the last result line among {@code lines} (a child's output, other lines ignored).
     *
     * @param where what the lines are (a log file name), for the error
     * @throws IllegalStateException naming {@code where} when there is no result line or it is not a JSON object
     */
    public static JsonNode parse(List<String> lines, String where) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i);
            int at = line.indexOf(PREFIX);
            if (at < 0) {
                continue;
            }
            String json = line.substring(at + PREFIX.length()).trim();
            JsonNode node;
            try {
                node = JSON.readTree(json);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": the result line is not valid JSON ("
                        + e.getOriginalMessage() + "): " + abbreviate(json));
            }
            if (node == null || !node.isObject()) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": the result line holds no JSON object: "
                        + abbreviate(json));
            }
            return node;
        }
        throw new IllegalStateException(where + ": no line starting with \"" + PREFIX.trim()
                + "\": the child did not finish (see the end of that file)");
    }

    /** The numbers of array field {@code key}. */
    public static double[] doubles(JsonNode node, String key, String where) {
        JsonNode a = node.get(key);
        if (a == null || !a.isArray()) {
            throw new IllegalStateException(where + ": result field \"" + key + "\": expected an array of numbers, got "
                    + (a == null ? "nothing" : a.getNodeType().toString().toLowerCase()));
        }
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!a.get(i).isNumber()) {
                throw new IllegalStateException(where + ": result field \"" + key + "\"[" + i
                        + "]: expected a number, got " + a.get(i));
            }
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
