package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The two logs the driver reads about a child: align4j's metrics.jsonl and a JVM's GC log. */
class LogsTest {

    @Test
    void stepEventsOfMetricsJsonl() {
        List<String> lines = List.of(
                "{\"time\":1718000000000,\"kind\":\"RUN_STARTED\",\"run\":\"bench\",\"stage\":\"\",\"step\":0,"
                        + "\"total_steps\":0,\"metrics\":{},\"message\":\"pipeline.yaml\"}",
                "{\"time\":1718000000100,\"kind\":\"MESSAGE\",\"run\":\"bench\",\"stage\":\"0:pretrain\",\"step\":0,"
                        + "\"total_steps\":0,\"metrics\":{},\"message\":\"pretrain: ModelConfig{vocab_size=512}, "
                        + "3,323,392 parameters; 10 training blocks; TensorFlow 2.18.0 on cpu (intra 0, inter 0, xla"
                        + " false)\"}",
                "{\"time\":1718000001000,\"kind\":\"STEP\",\"run\":\"bench\",\"stage\":\"0:pretrain\",\"step\":1,"
                        + "\"total_steps\":2,\"metrics\":{\"loss\":6.25,\"learning_rate\":0.0,"
                        + "\"train_tokens_per_second\":512.5},\"message\":\"\"}",
                "",
                "{\"time\":1718000002000,\"kind\":\"STEP\",\"run\":\"bench\",\"stage\":\"0:pretrain\",\"step\":2,"
                        + "\"total_steps\":2,\"metrics\":{\"loss\":\"NaN\",\"train_tokens_per_second\":1024},"
                        + "\"message\":\"\"}");
        MetricsLog.Run run = MetricsLog.parse(lines, "metrics.jsonl");
        assertEquals(2, run.steps().size());
        assertEquals(new MetricsLog.Step(1, 6.25, 512.5, 1718000001000L), run.steps().get(0));
        assertEquals(1024.0, run.steps().get(1).tokensPerSecond());
        assertTrue(Double.isNaN(run.steps().get(1).loss()));
        assertEquals(1, run.messages().size());
        assertTrue(run.messages().get(0).startsWith("pretrain: ModelConfig{"));
    }

    @Test
    void aStepWithoutTokensPerSecondIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MetricsLog.parse(List.of(
                "{\"kind\":\"STEP\",\"step\":3,\"metrics\":{\"loss\":1.0}}"), "run/metrics.jsonl"));
        assertTrue(e.getMessage().startsWith("run/metrics.jsonl:1: STEP event without a number"), e.getMessage());
        IllegalStateException bad = assertThrows(IllegalStateException.class,
                () -> MetricsLog.parse(List.of("{}", "{\"kind\":"), "m.jsonl"));
        assertTrue(bad.getMessage().startsWith("m.jsonl:2: not a JSON object"), bad.getMessage());
    }

    @Test
    void peakHeapFromPausesAndTheExitSummary() {
        List<String> gc = List.of(
                "[0.006s][info][gc] Using G1",
                "[1.234s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.456ms",
                "[2.001s][info][gc] GC(1) Pause Young (Concurrent Start) (Metadata GC Threshold) 61M->9M(256M) 4.1ms",
                "[2.010s][info][gc] GC(2) Concurrent Mark Cycle 7.012ms",
                "[9.870s][info][gc,heap,exit] Heap",
                "[9.870s][info][gc,heap,exit]  garbage-first heap   total 262144K, used 40960K [0x0000000701000000,"
                        + " 0x0000000800000000)",
                "[9.870s][info][gc,heap,exit]  Metaspace       used 98304K, committed 99000K, reserved 1114112K");
        assertEquals(61L << 20, GcLog.peakHeapBytes(gc)); // 61M before GC(1) > 40,960K used at exit
        assertEquals(40_960L << 10, GcLog.peakHeapBytes(gc.subList(4, 7))); // no pause: the exit figure, not metaspace
        assertEquals(-1, GcLog.peakHeapBytes(List.of("[0.006s][info][gc] Using G1")));
    }
}
