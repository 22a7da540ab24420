package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

class ResultLineTest {

    @Test
    void parsesTheResultLineAmongOtherOutput() {
        List<String> out = List.of(
                "plain: step 1/2 loss 6.2 grad_norm 1.3 812.5 tokens/s",
                "2025-01-01 12:00:00.1: I tensorflow/core/...: some native log",
                "ALIGN4J-BENCH-RESULT {\"side\":\"plain\",\"step_tokens_per_second\":[812.5,1024.25],"
                        + "\"runtime\":\"TensorFlow 2.18.0 on cpu (intra 0, inter 0, xla false)\"}",
                "");
        JsonNode r = ResultLine.parse(out, "plain-1.log");
        assertEquals("plain", r.get("side").asText());
        assertArrayEquals(new double[] {812.5, 1024.25}, ResultLine.doubles(r, "step_tokens_per_second", "x"));
        assertEquals("TensorFlow 2.18.0 on cpu (intra 0, inter 0, xla false)", r.get("runtime").asText());
    }

    @Test
    void roundTripsWhatFormatWrites() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("side", "matmul");
        m.put("seconds", List.of(0.25, 0.5));
        String line = ResultLine.format(m);
        assertTrue(line.startsWith(ResultLine.PREFIX));
        JsonNode r = ResultLine.parse(List.of("noise", line), "matmul.log");
        assertArrayEquals(new double[] {0.25, 0.5}, ResultLine.doubles(r, "seconds", "matmul.log"));
    }

    @Test
    void theLastResultLineWins() {
        JsonNode r = ResultLine.parse(List.of(ResultLine.PREFIX + "{\"n\":1}", ResultLine.PREFIX + "{\"n\":2}"), "x");
        assertEquals(2, r.get("n").asInt());
    }

    @Test
    void errorsNameTheFileAndLine() {
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> ResultLine.parse(List.of("Exception in thread \"main\""), "plain-2.log"));
        assertTrue(none.getMessage().startsWith("plain-2.log: no line starting with"), none.getMessage());
        IllegalStateException bad = assertThrows(IllegalStateException.class,
                () -> ResultLine.parse(List.of("a", ResultLine.PREFIX + "{\"side\": pla"), "plain-3.log"));
        assertTrue(bad.getMessage().startsWith("plain-3.log:2: the result line is not valid JSON"), bad.getMessage());
        JsonNode r = ResultLine.parse(List.of(ResultLine.PREFIX + "{\"steps\":\"many\"}"), "x");
        IllegalStateException notArray = assertThrows(IllegalStateException.class,
                () -> ResultLine.doubles(r, "steps", "plain-4.log"));
        assertTrue(notArray.getMessage().contains("\"steps\": expected an array of numbers"), notArray.getMessage());
    }
}
