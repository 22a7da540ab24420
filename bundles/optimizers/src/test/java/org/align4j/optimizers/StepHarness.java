package org.align4j.optimizers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A graph with parameters of given shapes, one gradient placeholder per parameter and a learning-rate placeholder,
 * the optimizer's step built on them, and a session that never calls {@code initialize()}: as a trainer would.
 */
final class StepHarness implements AutoCloseable {
    final Graph graph;
    final Ops tf;
    final List<Parameter> params = new ArrayList<>();
    final List<Placeholder<TFloat32>> gradients = new ArrayList<>();
    final Placeholder<TFloat32> learningRate;
    final OptimizerStep step;
    Session session;
    private final Map<String, Placeholder<TFloat32>> assignInputs = new LinkedHashMap<>();
    private final Map<String, Op> assigns = new LinkedHashMap<>();

    StepHarness(Optimizer optimizer, Settings settings, String[] names, long[][] shapes, boolean[] decay) {
        graph = new Graph();
        try {
            tf = Ops.create(graph);
            for (int i = 0; i < names.length; i++) {
                Shape shape = Shape.of(shapes[i]);
                Variable<TFloat32> v = tf.withName("param" + i).variable(shape, TFloat32.class);
                params.add(new Parameter(names[i], v, shape, decay[i]));
                gradients.add(tf.placeholder(TFloat32.class, Placeholder.shape(shape)));
            }
            learningRate = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
            step = optimizer.build(tf, params, new ArrayList<Operand<TFloat32>>(gradients), learningRate, settings);
            // restore ops built by the caller, as a trainer restoring a checkpoint would
            for (Parameter p : params) {
                addAssign(p);
            }
            for (Parameter p : step.state()) {
                addAssign(p);
            }
            session = new Session(graph);
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
    }

    private void addAssign(Parameter p) {
        Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(p.shape()));
        assignInputs.put(p.name(), in);
        assigns.put(p.name(), tf.assign(p.variable(), in));
    }

    /** Replaces the session by a fresh one on the same graph (state back to the initializers' zeros). */
    void newSession() {
        session.close();
        session = new Session(graph);
    }

    /** Assigns {@code values} to the variable saved as {@code name} (a parameter or a state variable). */
    void assign(String name, double[] values) {
        Placeholder<TFloat32> in = assignInputs.get(name);
        try (TFloat32 t = tensor(in.shape(), values)) {
            session.runner().feed(in, t).addTarget(assigns.get(name)).run().close();
        }
    }

    void assignParams(double[][] values) {
        for (int i = 0; i < params.size(); i++) {
            assign(params.get(i).name(), values[i]);
        }
    }

    /** Runs one update; returns the gradient norm fetched in the same run. */
    double step(double lr, double[][] grads) {
        List<Tensor> feeds = new ArrayList<>();
        try {
            Session.Runner r = session.runner();
            TFloat32 lrT = TFloat32.scalarOf((float) lr);
            feeds.add(lrT);
            r.feed(learningRate, lrT);
            for (int i = 0; i < grads.length; i++) {
                TFloat32 g = tensor(params.get(i).shape(), grads[i]);
                feeds.add(g);
                r.feed(gradients.get(i), g);
            }
            try (Result res = r.fetch(step.gradNorm()).addTarget(step.update()).run()) {
                return ((TFloat32) res.get(0)).getFloat();
            }
        } finally {
            feeds.forEach(Tensor::close);
        }
    }

    double[] read(Variable<TFloat32> v) {
        try (Result res = session.runner().fetch(v).run()) {
            return values((TFloat32) res.get(0));
        }
    }

    double[][] readParams() {
        double[][] out = new double[params.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = read(params.get(i).variable());
        }
        return out;
    }

    /** The optimizer's state by saved name. */
    Map<String, double[]> readState() {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Parameter p : step.state()) {
            out.put(p.name(), read(p.variable()));
        }
        return out;
    }

    static TFloat32 tensor(Shape shape, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return TFloat32.tensorOf(shape, DataBuffers.of(f));
    }

    static double[] values(TFloat32 t) {
        float[] f = new float[(int) t.shape().size()];
        t.asRawTensor().data().asFloats().read(f);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /**
     * Values N(0, scale^2) or uniform in {@code [-scale, scale)}, rounded to float32 so the reference sees what
     * TensorFlow sees.
     */
    static double[][] random(Random rnd, long[][] shapes, double scale, boolean gaussian) {
        double[][] out = new double[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            out[i] = new double[(int) Shape.of(shapes[i]).size()];
            for (int j = 0; j < out[i].length; j++) {
                double x = gaussian ? rnd.nextGaussian() * scale : (2 * rnd.nextDouble() - 1) * scale;
                out[i][j] = (float) x;
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } finally {
            graph.close();
        }
    }
}
