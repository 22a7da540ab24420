package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@link Transformer#tokenLogProbs} on a {@code [B, T]} batch: the gradient of {@code S = sum w[b, t] * lp[b, t]}
 * with respect to the hidden states against the double-precision chain rule {@code w * (onehot - softmax) E}, row by
 * row. A position with {@code w = 0} gets exactly no gradient. (TensorFlow's C++ gradient of LogSoftmax sums over
 * axis 1, which is right for rank 2 only: applied to {@code [B, T, V]} it mixed the positions of a row.)
 */
class TokenLogProbsGradientTest {
    @Test
    void eachPositionGetsItsOwnGradientAndMaskedOnesNone() {
        int b = 3;
        int t = 5;
        int d = 8;
        int v = 11;
        ModelConfig config = ModelConfig.builder().vocabSize(v).layers(1).dModel(d).heads(2).context(8)
                .initStd(0.8f).build();
        SplittableRandom r = new SplittableRandom(4);
        float[] h = new float[b * t * d];
        for (int i = 0; i < h.length; i++) {
            h[i] = (float) (3 * r.nextGaussian());
        }
        int[] next = new int[b * t];
        float[] w = new float[b * t];
        for (int i = 0; i < next.length; i++) {
            next[i] = r.nextInt(v);
            w[i] = i % 3 == 0 ? 0f : (float) (0.5 + r.nextDouble());
        }
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "m.", config, new TestAttention(config.headSize()));
            Placeholder<TFloat32> hidden = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, d)));
            Placeholder<TInt32> nx = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Placeholder<TFloat32> wt = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> s = tf.reduceSum(tf.math.mul(m.tokenLogProbs(tf, hidden, nx), wt),
                    tf.constant(new int[] {0, 1}));
            Output<?>[] grad = g.addGradients(s.asOutput(), new Output<?>[] {hidden.asOutput()});
            try (Session session = new Session(g);
                    TFloat32 ht = TFloat32.tensorOf(Shape.of(b, t, d), DataBuffers.of(h, true, false));
                    TInt32 nt = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(next, true, false));
                    TFloat32 wtt = TFloat32.tensorOf(Shape.of(b, t), DataBuffers.of(w, true, false))) {
                m.initialize(session, 9);
                float[] emb = m.read(session).get("m.tok_emb.weight").values(); // [V, d], tied: the LM head
                try (Result res = session.runner().feed(hidden, ht).feed(nx, nt).feed(wt, wtt).fetch(grad[0])
                        .run()) {
                    TFloat32 gt = (TFloat32) res.get(0); // [B, T, d]
                    double worst = 0;
                    for (int p = 0; p < b * t; p++) {
                        double[] logits = new double[v];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int k = 0; k < v; k++) {
                            for (int j = 0; j < d; j++) {
                                logits[k] += h[p * d + j] * (double) emb[k * d + j];
                            }
                            max = Math.max(max, logits[k]);
                        }
                        double z = 0;
                        for (int k = 0; k < v; k++) {
                            z += Math.exp(logits[k] - max);
                        }
                        double norm = 0;
                        double err = 0;
                        for (int j = 0; j < d; j++) {
                            double want = 0;
                            for (int k = 0; k < v; k++) {
                                double sm = Math.exp(logits[k] - max) / z;
                                want += w[p] * ((k == next[p] ? 1 : 0) - sm) * emb[k * d + j];
                            }
                            double got = gt.getFloat(p / t, p % t, j);
                            if (w[p] == 0) {
                                assertEquals(0.0, got, 0.0, "position " + p + " is not in the sum");
                            }
                            err += (got - want) * (got - want);
                            norm += want * want;
                        }
                        if (w[p] != 0) {
                            worst = Math.max(worst, Math.sqrt(err / norm));
                        }
                    }
                    System.out.printf("tokenLogProbs gradient on [%d, %d]: worst relative error per position %.3g%n",
                            b, t, worst);
                    assertTrue(worst < 1e-4, "relative error " + worst);
                }
            }
        }
    }
}
