package org.align4j.tensorflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

class TensorFlowRuntimeImplTest {

    @Test
    void opensSessionsThatRunOnTheCpu() {
        TensorFlowRuntimeImpl rt = new TensorFlowRuntimeImpl("cpu", 1, 1, false, 7);
        assertEquals("/device:CPU:0", rt.deviceSpec());
        assertTrue(rt.tensorflowVersion().startsWith("2."), rt.tensorflowVersion());
        try (Graph g = new Graph()) {
            Ops tf = rt.ops(g);
            // [[1, 2], [3, 4]] @ [[5], [6]] = [[17], [39]]
            var y = tf.linalg.matMul(tf.constant(new float[][] {{1, 2}, {3, 4}}), tf.constant(new float[][] {{5}, {6}}));
            try (Session s = rt.openSession(g); Result r = s.runner().fetch(y).run()) {
                TFloat32 t = (TFloat32) r.get(0);
                assertEquals(17f, t.getFloat(0, 0));
                assertEquals(39f, t.getFloat(1, 0));
            }
        }
    }

    @Test
    void sessionsWithXlaSwitchedOnRunAndGiveTheSameResult() {
        TensorFlowRuntimeImpl rt = new TensorFlowRuntimeImpl("cpu", 1, 1, true, 7);
        assertTrue(rt.xla());
        try (Graph g = new Graph()) {
            Ops tf = rt.ops(g);
            // tanh(x) * 2 + 1 for x = 0.5: 1 + 2 * 0.46211716
            var y = tf.math.add(tf.math.mul(tf.math.tanh(tf.constant(0.5f)), tf.constant(2f)), tf.constant(1f));
            try (Session s = rt.openSession(g); Result r = s.runner().fetch(y).run()) {
                assertEquals(1 + 2 * Math.tanh(0.5), ((TFloat32) r.get(0)).getFloat(), 1e-6);
            }
        }
    }

    @Test
    void rejectsUnknownDevicesAndGpuWithoutTheGpuBuild() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new TensorFlowRuntimeImpl("tpu", 0, 0, false, 1));
        assertTrue(bad.getMessage().contains("expected cpu or gpu:N, got \"tpu\""), bad.getMessage());
        IllegalStateException gpu = assertThrows(IllegalStateException.class,
                () -> new TensorFlowRuntimeImpl("gpu:0", 0, 0, false, 1));
        assertTrue(gpu.getMessage().contains("GPU native build"), gpu.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TensorFlowRuntimeImpl("cpu", -1, 0, false, 1));
    }
}
