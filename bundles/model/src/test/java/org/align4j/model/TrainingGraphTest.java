package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.Transformer;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A whole training graph (model, next-token cross-entropy, {@code Graph.addGradients} over the parameters, plain SGD)
 * builds and trains with TensorFlow's C++ gradients only: no Java gradient is registered in this JVM.
 */
class TrainingGraphTest {

    @Test
    void theModelTrainsWithTheCppGradientRegistryAlone() {
        ModelConfig c = ModelConfig.builder().vocabSize(11).layers(2).dModel(16).heads(2).context(8)
                .tieEmbeddings(false).build();
        float[] loss = sgdOnOneBatch(c, (trained, grads) -> { });
        assertEquals(Math.log(11), loss[0], 0.1, "an initial model predicts about uniformly");
        assertTrue(loss[1] < 0.25 * loss[0], "SGD on one batch: loss " + loss[0] + " -> " + loss[1]);
    }

    /**
     * Builds the model {@code c} (prefix {@code policy.}) with next-token cross-entropy, gradients of the parameters
     * the loss reaches (checked: all but the scalar head) and plain SGD (rate 0.1), hands the trained parameters and
     * their gradients to {@code check}, and runs 40 steps on one fixed batch; returns the first and last loss.
     */
    static float[] sgdOnOneBatch(ModelConfig c, BiConsumer<List<Parameter>, Output<?>[]> check) {
        int[][] tokens = {{1, 4, 2, 9, 3, 7}, {10, 0, 5, 5, 8, 6}};
        int[][] targets = {{4, 2, 9, 3, 7, 0}, {0, 5, 5, 8, 6, 0}};
        float[][] mask = {{1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 0}};
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "policy.", c, new TestAttention(c.headSize()));
            Placeholder<TInt32> tok = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TInt32> tgt = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TFloat32> msk = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> logits = m.lmLogits(tf, m.hidden(tf, tok, msk)); // [B, T, V]
            Operand<TFloat32> loss = crossEntropy(tf, logits, tgt, msk, c.vocabSize());

            Set<GraphOperation> used = g.subgraphTo(Set.of(loss));
            List<Parameter> trained = new ArrayList<>();
            for (Parameter p : m.parameters()) {
                if (used.contains(p.variable().op())) {
                    trained.add(p);
                }
            }
            assertEquals(m.parameters().size() - 2, trained.size(), "all but the scalar head reach the LM loss");
            assertFalse(trained.stream().anyMatch(p -> p.name().startsWith("policy.score_head")));

            Output<?>[] grads = g.addGradients(loss.asOutput(),
                    trained.stream().map(p -> p.variable().asOutput()).toArray(Output<?>[]::new));
            check.accept(trained, grads);
            List<Op> updates = new ArrayList<>();
            for (int i = 0; i < trained.size(); i++) {
                @SuppressWarnings("unchecked")
                Operand<TFloat32> grad = (Operand<TFloat32>) grads[i];
                updates.add(tf.assignSub(trained.get(i).variable(), tf.math.mul(tf.constant(0.1f), grad)));
            }
            Op step = tf.withControlDependencies(updates).noOp();

            try (Session s = new Session(g);
                    TInt32 tt = Tensors.ints(tokens);
                    TInt32 yt = Tensors.ints(targets);
                    TFloat32 mt = Tensors.floats(mask)) {
                m.initialize(s, 7);
                float first = Float.NaN;
                float last = Float.NaN;
                for (int i = 0; i < 40; i++) {
                    try (Result r = s.runner().feed(tok, tt).feed(tgt, yt).feed(msk, mt).fetch(loss).addTarget(step)
                            .run()) {
                        last = ((TFloat32) r.get(0)).getFloat();
                        if (i == 0) {
                            first = last;
                        }
                        assertTrue(Float.isFinite(last), "loss at step " + i + ": " + last);
                    }
                }
                return new float[] {first, last};
            }
        }
    }

    /**
     * {@code sum(mask * -log_softmax(logits)[target]) / max(sum(mask), 1)}, the LM loss of the api, composed here
     * so this bundle does not depend on loss-lm. LogSoftmax runs on {@code [B*T, V]}: its C++ gradient is right only
     * for rank 2.
     */
    static Operand<TFloat32> crossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets,
            Operand<TFloat32> mask, int vocab) {
        Operand<TInt32> flat = tf.constant(new int[] {-1});
        Operand<TFloat32> logProbs = tf.nn.logSoftmax(tf.reshape(logits, tf.constant(new int[] {-1, vocab})));
        Operand<TFloat32> oneHot = tf.oneHot(tf.reshape(targets, flat), tf.constant(vocab), tf.constant(1f),
                tf.constant(0f)); // [N, V]
        Operand<TFloat32> nll = tf.math.neg(tf.reduceSum(tf.math.mul(oneHot, logProbs), tf.constant(1))); // [N]
        Operand<TFloat32> w = tf.reshape(mask, flat); // [N]
        return tf.math.div(tf.reduceSum(tf.math.mul(w, nll), tf.constant(0)),
                tf.math.maximum(tf.reduceSum(w, tf.constant(0)), tf.constant(1f))); // []
    }
}
