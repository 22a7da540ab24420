package org.align4j.training.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Reads and assigns a fixed set of variables (model parameters and optimizer state), each under the key it is saved
 * with, in one session run each way: what a checkpoint saves and restores.
 */
public final class VariableIO {
    private final List<Parameter> params;
    private final List<String> keys;
    private final List<Placeholder<TFloat32>> inputs = new ArrayList<>();
    private final List<Assign<TFloat32>> assigns = new ArrayList<>();

    /** @param keys the saved name of each parameter, in the same order; unique */
    public VariableIO(Ops tf, List<Parameter> params, List<String> keys) {
        if (params.size() != keys.size() || new java.util.HashSet<>(keys).size() != keys.size()) {
            throw new IllegalArgumentException("checkpoint keys must be unique, one per variable: " + keys);
        }
        this.params = List.copyOf(params);
        this.keys = List.copyOf(keys);
        Ops io = tf.withSubScope("checkpoint_io");
        for (Parameter p : this.params) {
            Placeholder<TFloat32> in = io.placeholder(TFloat32.class, Placeholder.shape(p.shape()));
            inputs.add(in);
            assigns.add(io.assign(p.variable(), in));
        }
    }

    public List<String> keys() {
        return keys;
    }

    public Map<String, TensorData> read(Session session) {
        Session.Runner r = session.runner();
        for (Parameter p : params) {
            r.fetch(p.variable());
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        try (Result res = r.run()) {
            for (int i = 0; i < params.size(); i++) {
                TFloat32 t = (TFloat32) res.get(i);
                float[] v = new float[(int) t.size()];
                t.copyTo(DataBuffers.of(v, false, false));
                out.put(keys.get(i), new TensorData(t.shape().asArray(), v));
            }
        }
        return out;
    }

    /** Assigns every variable from {@code values}; fails naming the first missing or misshapen one. */
    public void assign(Session session, Map<String, TensorData> values, String source) {
        List<TFloat32> tensors = new ArrayList<>();
        try {
            Session.Runner r = session.runner();
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                TensorData d = values.get(keys.get(i));
                if (d == null) {
                    throw new IllegalStateException(source + ": has no tensor \"" + keys.get(i)
                            + "\" (it was written by a different model, method or optimizer; start a fresh workdir)");
                }
                if (!Arrays.equals(d.shape(), p.shape().asArray())) {
                    throw new IllegalStateException(source + ": tensor \"" + keys.get(i) + "\" has shape "
                            + Arrays.toString(d.shape()) + " but the run needs " + p.shape());
                }
                TFloat32 t = TFloat32.tensorOf(Shape.of(d.shape()), DataBuffers.of(d.values(), true, false));
                tensors.add(t);
                r.feed(inputs.get(i), t).addTarget(assigns.get(i));
            }
            r.run().close();
        } finally {
            tensors.forEach(TFloat32::close);
        }
    }
}
