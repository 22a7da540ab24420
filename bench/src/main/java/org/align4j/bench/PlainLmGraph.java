package org.align4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The training graph of the plain side, built the way the pretrain trainer's graph is: a causal LM from the model
 * plugin, the loss plugin on its logits, gradients (of the parameter reads the loss reaches only) and the optimizer
 * plugin's update, built under a control dependency on the loss so the loss fetched with the update sees the
 * parameters before it.
 */
final class PlainLmGraph {
    final Transformer model;
    final List<Parameter> trained;
    private final Placeholder<TInt32> tokens; // [B, T]
    private final Placeholder<TInt32> targets; // [B, T]
    private final Placeholder<TFloat32> mask; // [B, T]
    private final Placeholder<TFloat32> learningRate; // []
    private final Operand<TFloat32> loss; // []
    private final OptimizerStep step;

    PlainLmGraph(Ops tf, ModelConfig config, TransformerFactory models, AttentionKernel attention,
            LanguageModelLoss lossFn, Optimizer optimizer, Settings optimizerSettings) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

        model = models.create(tf, "model.", config, attention);
        Operand<TFloat32> hidden = model.hidden(tf, tokens, null); // [B, T, d]
        Operand<TFloat32> logits = model.lmLogits(tf, hidden); // [B, T, V]
        loss = lossFn.compute(tf.withSubScope("loss"), logits, targets, mask).loss(); // []

        Graph g = (Graph) tf.scope().env();
        Set<GraphOperation> reached = g.subgraphTo(Set.of(loss));
        List<Parameter> params = new ArrayList<>();
        List<Operand<?>> reads = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            if (reached.contains((GraphOperation) p.value().op())) {
                params.add(p);
                reads.add(p.value());
            }
        }
        List<Operand<TFloat32>> grads = new ArrayList<>();
        for (Operand<?> gr : tf.gradients(loss, reads)) {
            if (gr == null) {
                throw new IllegalStateException("no gradient reaches parameter " + params.get(grads.size()).name());
            }
            @SuppressWarnings("unchecked")
            Operand<TFloat32> gf = (Operand<TFloat32>) gr;
            grads.add(gf);
        }
        trained = List.copyOf(params);
        // in a name scope of its own, so that a traced step tells the update's ops from the model's
        step = optimizer.build(tf.withSubScope("optimizer").withControlDependencies(List.of(loss)), params, grads,
                learningRate, optimizerSettings);
    }

    /** How many numbers the trained parameters hold. */
    long trainedParameterCount() {
        return trained.stream().mapToLong(p -> p.shape().size()).sum();
    }

    /** One optimizer step on {@code rows} ({@code [B, T + 1]} token ids); returns {loss, grad_norm} before it. */
    float[] train(Session s, int[][] rows, float lr) {
        return run(s, rows, lr, null);
    }

    /** One optimizer step, traced: TensorFlow's step statistics of it (every node's start and end). */
    RunMetadata profile(Session s, int[][] rows, float lr) {
        RunMetadata[] trace = new RunMetadata[1];
        run(s, rows, lr, trace);
        return trace[0];
    }

    private float[] run(Session s, int[][] rows, float lr, RunMetadata[] trace) {
        int b = rows.length;
        int t = rows[0].length - 1;
        int[] in = new int[b * t]; // [B, T]
        int[] out = new int[b * t]; // [B, T] the next tokens
        float[] m = new float[b * t]; // [B, T] all ones: packed blocks have no padding
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, in, i * t, t);
            System.arraycopy(rows[i], 1, out, i * t, t);
        }
        Arrays.fill(m, 1f);
        try (TInt32 inputs = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(in, true, false));
                TInt32 next = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(out, true, false));
                TFloat32 ones = TFloat32.tensorOf(Shape.of(b, t), DataBuffers.of(m, true, false));
                TFloat32 rate = TFloat32.scalarOf(lr)) {
            Session.Runner r = s.runner().feed(tokens, inputs).feed(targets, next).feed(mask, ones)
                    .feed(learningRate, rate).addTarget(step.update()).fetch(loss).fetch(step.gradNorm());
            if (trace != null) {
                r.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
            }
            try (Result res = trace != null ? r.runAndFetchMetadata() : r.run()) {
                if (trace != null) {
                    trace[0] = res.getMetadata().orElseThrow(() -> new IllegalStateException(
                            "TensorFlow returned no step statistics for a traced run"));
                }
                return new float[] {((TFloat32) res.get(0)).getFloat(), ((TFloat32) res.get(1)).getFloat()};
            }
        }
    }
}
