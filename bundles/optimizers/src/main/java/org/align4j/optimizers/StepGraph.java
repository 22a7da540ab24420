package org.align4j.optimizers;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.OptimizerStep;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One optimizer step while it is being added to a graph: the checked inputs, the gradients after global-norm
 * clipping, the optimizer's state variables, and the new value of every variable the step writes.
 *
 * <p>An optimizer computes every new value from the old ones first ({@link #write} only records it); {@link #finish}
 * then assigns them all, each assignment under a control dependency on <em>every</em> new value and on the gradient
 * norm. So every read of an old value (by the update maths, by the gradients, by the forward pass the gradients come
 * from) has happened before the first write, whatever order TensorFlow runs the ops in, and one run of
 * {@link OptimizerStep#update()} is exactly one step of the maths. An optimizer may also update in place with one
 * fused kernel ({@link #inPlace}); those ops are built in {@link #finish} under the same control dependency.
 *
 * <p>State variables start at zero through initializers ({@code tf.withInitScope()}): TensorFlow Java runs a graph's
 * initializers once per {@link org.tensorflow.Session}, automatically, before the first run of that session (whatever
 * it fetches), and never again, so values assigned afterwards (a checkpoint being restored) stay.
 *
 * <p>Not thread-safe; one instance per {@code build} call.
 */
final class StepGraph {
    private final Ops tf;
    private final String optimizer;
    private final List<Parameter> params;
    private final List<Operand<TFloat32>> grads;
    private final Operand<TFloat32> gradNorm;
    private final Operand<TFloat32> learningRate;
    private final List<Parameter> state = new ArrayList<>();
    private final List<Variable<TFloat32>> targets = new ArrayList<>();
    private final List<Operand<TFloat32>> values = new ArrayList<>();
    private final List<Function<Ops, Op>> inPlace = new ArrayList<>();

    private StepGraph(Ops tf, String optimizer, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> gradNorm, Operand<TFloat32> learningRate) {
        this.tf = tf;
        this.optimizer = optimizer;
        this.params = params;
        this.grads = grads;
        this.gradNorm = gradNorm;
        this.learningRate = learningRate;
    }

    /**
     * Checks the inputs, computes the global gradient norm and clips the gradients by it.
     *
     * @param clipNorm the norm to clip to; 0 = no clipping
     */
    static StepGraph begin(Ops tf, String optimizer, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate, double clipNorm) {
        check(optimizer, params, grads, learningRate);
        Operand<TFloat32> norm = globalNorm(tf, grads); // []
        List<Operand<TFloat32>> clipped = clipNorm > 0 ? clipByGlobalNorm(tf, grads, norm, clipNorm) : grads;
        return new StepGraph(tf, optimizer, List.copyOf(params), List.copyOf(clipped), norm, learningRate);
    }

    /** {@code sqrt(sum_i sum(g_i^2))} over all gradients. */
    static Operand<TFloat32> globalNorm(Ops tf, List<Operand<TFloat32>> grads) {
        Operand<TInt32> flat = tf.constant(new int[] {-1});
        List<Operand<TFloat32>> squares = new ArrayList<>(grads.size());
        for (Operand<TFloat32> g : grads) {
            squares.add(tf.reduceSum(tf.math.square(tf.reshape(g, flat)), tf.constant(0))); // []
        }
        return tf.math.sqrt(tf.math.addN(squares)); // []
    }

    /** {@code g_i * clipNorm / max(norm, clipNorm)}: unchanged when {@code norm <= clipNorm}. */
    static List<Operand<TFloat32>> clipByGlobalNorm(Ops tf, List<Operand<TFloat32>> grads, Operand<TFloat32> norm,
            double clipNorm) {
        Operand<TFloat32> c = tf.constant((float) clipNorm); // []
        Operand<TFloat32> scale = tf.math.div(c, tf.math.maximum(norm, c)); // []
        List<Operand<TFloat32>> out = new ArrayList<>(grads.size());
        for (Operand<TFloat32> g : grads) {
            out.add(tf.math.mul(g, scale)); // same shape as g
        }
        return out;
    }

    int size() {
        return params.size();
    }

    Parameter param(int i) {
        return params.get(i);
    }

    /** The gradient of parameter {@code i} after clipping; same shape as the parameter. */
    Operand<TFloat32> grad(int i) {
        return grads.get(i);
    }

    /**
     * The gradient plus classic (coupled) L2 weight decay, {@code g + wd * p}, for parameters that decay; the
     * plain gradient for the others or when {@code wd == 0}.
     */
    Operand<TFloat32> gradWithL2(int i, double weightDecay) {
        Parameter p = params.get(i);
        if (weightDecay == 0 || !p.decay()) {
            return grads.get(i);
        }
        return tf.math.add(grads.get(i), tf.math.mul(constant(weightDecay), p.variable())); // same shape as p
    }

    /** The learning rate, {@code []}. */
    Operand<TFloat32> learningRate() {
        return learningRate;
    }

    /** A float32 scalar constant. */
    Operand<TFloat32> constant(double v) {
        return tf.constant((float) v);
    }

    /**
     * A state variable shaped like {@code p}, starting at zeros, saved as
     * {@code optimizer.<optimizer>.<slot>.<p's name>}.
     */
    Parameter slot(String slot, Parameter p) {
        return stateVariable(slot + "." + p.name(), p.shape());
    }

    /** A scalar state variable starting at 0, saved as {@code optimizer.<optimizer>.<name>}. */
    Parameter scalar(String name) {
        return stateVariable(name, Shape.scalar());
    }

    private Parameter stateVariable(String suffix, Shape shape) {
        String name = "optimizer." + optimizer + "." + suffix;
        Ops init = tf.withInitScope();
        Operand<TFloat32> zeros = init.zeros(init.constant(shape.asArray()), TFloat32.class); // same shape as p
        Variable<TFloat32> v = tf.withName(opName(name)).variable(zeros);
        Parameter p = new Parameter(name, v, shape, false);
        state.add(p);
        return p;
    }

    /** Records that the step sets {@code target} to {@code value}, computed from old values only. */
    void write(Variable<TFloat32> target, Operand<TFloat32> value) {
        targets.add(target);
        values.add(value);
    }

    /**
     * Records an update that writes its variables itself (a fused kernel such as ApplyAdam): {@code build} gets the
     * ops to build it with, which run it after every recorded value and the gradient norm. It must read old values
     * only through its inputs (the gradients, the variables it updates).
     */
    void inPlace(Function<Ops, Op> build) {
        inPlace.add(build);
    }

    /** Assigns every recorded value after all of them (and the gradient norm) have been computed. */
    OptimizerStep finish() {
        List<Op> computed = new ArrayList<Op>(values);
        computed.add(gradNorm);
        Ops after = tf.withControlDependencies(computed);
        List<Op> assigns = new ArrayList<>(targets.size());
        for (int i = 0; i < targets.size(); i++) {
            assigns.add(after.assign(targets.get(i), values.get(i)));
        }
        for (Function<Ops, Op> build : inPlace) {
            assigns.add(build.apply(after));
        }
        Op update = tf.withControlDependencies(assigns).withName(opName("optimizer." + optimizer + ".update"))
                .noOp();
        return new OptimizerStep(update, state, gradNorm);
    }

    /** A valid TensorFlow op name ({@code [A-Za-z0-9.][A-Za-z0-9_.-]*}) for a saved name. */
    static String opName(String name) {
        String s = name.replaceAll("[^A-Za-z0-9_.\\-]", "_");
        return s.isEmpty() || !Character.isLetterOrDigit(s.charAt(0)) && s.charAt(0) != '.' ? "v" + s : s;
    }

    private static void check(String optimizer, List<Parameter> params, List<Operand<TFloat32>> grads,
            Operand<TFloat32> learningRate) {
        String who = "optimizer " + optimizer + ": ";
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException(who + "no parameters to update: pass the model's parameters");
        }
        if (grads == null || grads.size() != params.size()) {
            throw new IllegalArgumentException(who + (grads == null ? "no" : grads.size()) + " gradients for "
                    + params.size() + " parameters: pass one gradient per parameter, in the same order");
        }
        if (learningRate == null) {
            throw new IllegalArgumentException(who + "no learning rate: pass a scalar float32 operand");
        }
        Shape lrShape = learningRate.shape();
        if (!lrShape.isUnknown() && lrShape.numDimensions() != 0) {
            throw new IllegalArgumentException(who + "the learning rate must be a scalar [], got shape " + lrShape);
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            Operand<TFloat32> g = grads.get(i);
            if (p == null) {
                throw new IllegalArgumentException(who + "parameter " + i + " is null");
            }
            if (!names.add(p.name())) {
                throw new IllegalArgumentException(who + "parameter " + p.name()
                        + " is listed twice: pass each variable once (its state is saved under its name)");
            }
            if (p.shape().isUnknown() || p.shape().hasUnknownDimension()) {
                throw new IllegalArgumentException(who + "parameter " + p.name() + " has shape " + p.shape()
                        + ": every dimension must be known");
            }
            if (!p.variable().shape().isCompatibleWith(p.shape())) {
                throw new IllegalArgumentException(who + "parameter " + p.name() + " declares shape " + p.shape()
                        + " but its variable has shape " + p.variable().shape());
            }
            if (g == null) {
                throw new IllegalArgumentException(who + "no gradient for parameter " + p.name()
                        + " (it does not affect the loss?): pass zeros or leave the parameter out");
            }
            if (g.type() != TFloat32.class) {
                throw new IllegalArgumentException(who + "the gradient of " + p.name() + " is "
                        + g.type().getSimpleName() + ", expected TFloat32");
            }
            if (!g.shape().isCompatibleWith(p.shape())) {
                throw new IllegalArgumentException(who + "the gradient of " + p.name() + " has shape " + g.shape()
                        + ", the parameter " + p.shape() + ": pass the gradients in the order of the parameters");
            }
        }
    }
}
