package org.align4j.bench;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads what the align4j side reports: the run's {@code metrics.jsonl} (one JSON object per event, written by the
 * metrics bundle's {@code JsonlMetricsLog}). STEP events carry {@code step} and
 * {@code metrics.train_tokens_per_second}, the tokens of the steps since the previous STEP event divided by their
 * seconds (PretrainTrainer), so with {@code log_every: 1} one figure per step.
 */
public final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One STEP event. */
    public record Step(long step, double loss, double tokensPerSecond, long timeMillis) {
    }

    /** What a run's log says. */
    public record Run(List<Step> steps, List<String> messages) {
    }

    private MetricsLog() {
    }

    /** @param where the file name, for errors */
    public static Run parse(List<String> lines, String where) {
        List<Step> steps = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode e;
            try {
                e = JSON.readTree(line);
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": not a JSON object ("
                        + ex.getOriginalMessage() + ")");
            }
            String kind = e.path("kind").asText("");
            if (kind.equals("MESSAGE")) {
                messages.add(e.path("message").asText(""));
            }
            if (!kind.equals("STEP")) {
                continue;
            }
            JsonNode m = e.path("metrics");
            JsonNode tps = m.get("train_tokens_per_second");
            if (tps == null || !tps.isNumber()) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": STEP event without a number in"
                        + " metrics.train_tokens_per_second: " + line);
            }
            if (!e.path("step").canConvertToLong()) {
                throw new IllegalStateException(where + ":" + (i + 1) + ": STEP event without a step number");
            }
            JsonNode loss = m.get("loss");
            steps.add(new Step(e.get("step").asLong(), loss != null && loss.isNumber() ? loss.asDouble() : Double.NaN,
                    tps.asDouble(), e.path("time").asLong(-1)));
        }
        return new Run(steps, messages);
    }
}
