package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.align4j.api.model.ModelConfig;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

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

    /**
     * What the peer does with a gradient that is not finite: it names the parameter and how many elements, and
     * clears the gradients for real before computing the step again (DJL's own zeroing, g - g, would keep a NaN).
     */
    @Test
    void aNonFiniteGradientIsNamedAndClearedBeforeTheStepIsComputedAgain() {
        ModelConfig c = BenchModel.config();
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = engine.newBaseManager(Device.cpu())) {
            DjlTrain.Model model = new DjlTrain.Model(m, c, 7);
            int t = c.context(); // the peer adds every position: whole blocks only
            int[][] rows = PlainTrain.randomRows(new java.util.SplittableRandom(3), 2, t + 1, c.vocabSize());
            NDArray causal = m.zeros(new ai.djl.ndarray.types.Shape(t, t));
            float loss = DjlTrain.forwardBackward(engine, m, model, rows, 2, t, causal);
            List<NDArray> grads = DjlTrain.gradients(model);
            double clean = DjlTrain.squaredNorm(grads);
            assertTrue(Double.isFinite(clean) && clean > 0, "a first gradient: " + clean);
            grads.forEach(NDArray::close);

            // poison three elements of the token embedding's gradient, in rows 5 and 9
            // (added in place by a PyTorch op: NDArray.set(Buffer) would point the gradient at Java's memory)
            int d = c.dModel();
            float[] v = new float[512 * d];
            v[5 * d + 1] = Float.NaN;
            v[9 * d] = Float.POSITIVE_INFINITY;
            v[9 * d + 2] = Float.NaN;
            try (NDArray g = model.all.get(0).getGradient();
                    NDArray poison = m.create(v, new ai.djl.ndarray.types.Shape(512, d))) {
                g.addi(poison);
            }
            grads = DjlTrain.gradients(model);
            assertTrue(Double.isNaN(DjlTrain.squaredNorm(grads)));
            String where = DjlTrain.firstNonFinite(model, grads);
            assertEquals("parameter 0 (512, " + c.dModel() + ") (3 of " + 512 * c.dModel() + " elements, from row 5)",
                    where);
            grads.forEach(NDArray::close);

            DjlTrain.clearGradients(model);
            grads = DjlTrain.gradients(model);
            assertEquals(0.0, DjlTrain.squaredNorm(grads));
            grads.forEach(NDArray::close);
            // the same batch again gives the same loss and a finite gradient of the same size
            assertEquals(loss, DjlTrain.forwardBackward(engine, m, model, rows, 2, t, causal));
            grads = DjlTrain.gradients(model);
            assertEquals(clean, DjlTrain.squaredNorm(grads), 1e-6 * clean);
            grads.forEach(NDArray::close);
        }
    }
}
