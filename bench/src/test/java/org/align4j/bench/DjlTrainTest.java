package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** The peer side trains for real: PyTorch loads from the class path, and its steps report finite losses. */
class DjlTrainTest {

    @Test
    void theDjlPeerTrainsTheBenchmarksModelAndReportsItsSteps() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream before = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            DjlTrain.main(new String[] {"--steps", "3", "--threads", "1"});
        } finally {
            System.setOut(before);
        }
        List<String> lines = List.of(buf.toString(StandardCharsets.UTF_8).split("\n"));
        JsonNode r = ResultLine.parse(lines, "DjlTrain output");
        assertEquals("djl", r.path("side").asText());
        // the parameter count is checked against ModelConfig inside: the same architecture as the other sides
        assertEquals(BenchModel.config().parameterCount(), r.path("parameters").asLong());
        double[] loss = ResultLine.doubles(r, "loss", "DjlTrain output");
        assertEquals(3, loss.length);
        for (double l : loss) {
            // random tokens over a vocabulary of 512: about ln 512 = 6.24 at initialisation
            assertEquals(Math.log(512), l, 0.2);
        }
        assertTrue(ResultLine.doubles(r, "step_tokens_per_second", "DjlTrain output")[2] > 0);
    }

    /** The schedule against its definition: linear warmup to the peak, then half a cosine down to 0. */
    @Test
    void theScheduleWarmsUpThenFollowsACosine() {
        assertEquals(3e-4 / 100, DjlTrain.rate(0, 1000, 3e-4, 100), 1e-12);
        assertEquals(3e-4, DjlTrain.rate(99, 1000, 3e-4, 100), 1e-9);
        assertEquals(3e-4 * 0.5 * (1 + Math.cos(Math.PI * 450 / 900.0)), DjlTrain.rate(550, 1000, 3e-4, 100), 1e-9);
        assertEquals(0, DjlTrain.rate(1000, 1000, 3e-4, 100), 1e-12);
    }
}
