package org.align4j.trainer.pretrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.loss.LossResult;
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
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The one graph of a pre-training stage: a causal language model, its loss, the gradients of the loss with respect
 * to every parameter, and the optimizer's update. Evaluation and sampling run the same graph without the update.
 */
final class LmGraph {
    final Transformer model;
    final Placeholder<TInt32> tokens; // [B, T]
    final Placeholder<TInt32> targets; // [B, T]
    final Placeholder<TFloat32> mask; // [B, T]
    final Placeholder<TFloat32> learningRate; // []
    final Operand<TFloat32> logits; // [B, T, V]
    final Operand<TFloat32> loss; // []
    final OptimizerStep step;
    final VariableIO checkpointed;

    LmGraph(Ops tf, ModelConfig config, TransformerFactory models, AttentionKernel attention, LanguageModelLoss lossFn,
            Optimizer optimizer, Settings optimizerSettings) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

        model = models.create(tf, "model.", config, attention);
        Operand<TFloat32> hidden = model.hidden(tf, tokens, null); // [B, T, d]
        logits = model.lmLogits(tf, hidden); // [B, T, V]
        LossResult lr = lossFn.compute(tf, logits, targets, mask);
        loss = lr.loss(); // []

        // Only parameters the loss depends on are trained (the scalar head of reward/value models is not, here);
        // TensorFlow refuses a gradient for an unreachable one.
        Graph g = (Graph) tf.scope().env();
        Set<GraphOperation> used = g.subgraphTo(Set.of(loss));
        List<Parameter> params = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            if (used.contains((GraphOperation) p.value().op())) {
                params.add(p);
            }
        }
        List<Operand<?>> xs = new ArrayList<>();
        params.forEach(p -> xs.add(p.value()));
        List<Operand<TFloat32>> grads = new ArrayList<>();
        int i = 0;
        for (Operand<?> gr : tf.gradients(loss, xs)) {
            @SuppressWarnings("unchecked")
            Operand<TFloat32> gf = (Operand<TFloat32>) gr;
            if (gf == null) {
                throw new IllegalStateException("no gradient reaches parameter " + params.get(i).name());
            }
            grads.add(gf);
            i++;
        }
        // the loss fetched with the update must see the parameters before it
        step = optimizer.build(tf.withControlDependencies(List.of(loss)), params, grads, learningRate,
                optimizerSettings);

        List<Parameter> saved = new ArrayList<>(model.parameters());
        saved.addAll(step.state());
        checkpointed = new VariableIO(tf, saved);
    }

    /** One optimizer step on {@code rows} ([B, L + 1]); returns {loss, grad_norm} before the update. */
    float[] train(Session s, int[][] rows, float lr) {
        try (Batch b = new Batch(rows); TFloat32 rate = TFloat32.scalarOf(lr);
                Result r = s.runner().feed(tokens, b.inputs).feed(targets, b.targets).feed(mask, b.mask)
                        .feed(learningRate, rate).addTarget(step.update()).fetch(loss).fetch(step.gradNorm()).run()) {
            return new float[] {((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat()};
        }
    }

    /** The mean loss of {@code rows} without updating anything. */
    float evaluate(Session s, int[][] rows) {
        try (Batch b = new Batch(rows);
                Result r = s.runner().feed(tokens, b.inputs).feed(targets, b.targets).feed(mask, b.mask)
                        .fetch(loss).run()) {
            return ((TFloat32) r.get(0)).getFloat();
        }
    }

    /** Next-token logits after {@code context} ([T] ids): {@code [V]}. */
    float[] nextLogits(Session s, int[] context) {
        try (TInt32 in = TInt32.tensorOf(Shape.of(1, context.length), DataBuffers.of(context, true, false));
                Result r = s.runner().feed(tokens, in).fetch(logits).run()) {
            TFloat32 out = (TFloat32) r.get(0); // [1, T, V]
            int v = (int) out.shape().get(2);
            float[] all = new float[(int) out.size()];
            out.copyTo(DataBuffers.of(all, false, false));
            float[] last = new float[v];
            System.arraycopy(all, (context.length - 1) * v, last, 0, v);
            return last;
        }
    }

    /** Inputs, targets and an all-ones mask of packed rows {@code [B, L + 1]}. */
    private static final class Batch implements AutoCloseable {
        final TInt32 inputs;
        final TInt32 targets;
        final TFloat32 mask;

        Batch(int[][] rows) {
            int b = rows.length;
            int l = rows[0].length - 1;
            int[] in = new int[b * l];
            int[] out = new int[b * l];
            float[] m = new float[b * l];
            for (int i = 0; i < b; i++) {
                System.arraycopy(rows[i], 0, in, i * l, l);
                System.arraycopy(rows[i], 1, out, i * l, l);
            }
            java.util.Arrays.fill(m, 1f);
            inputs = TInt32.tensorOf(Shape.of(b, l), DataBuffers.of(in, true, false));
            targets = TInt32.tensorOf(Shape.of(b, l), DataBuffers.of(out, true, false));
            mask = TFloat32.tensorOf(Shape.of(b, l), DataBuffers.of(m, true, false));
        }

        @Override
        public void close() {
            inputs.close();
            targets.close();
            mask.close();
        }
    }
}
