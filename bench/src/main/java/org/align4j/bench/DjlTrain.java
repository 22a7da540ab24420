package org.align4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.model.ModelConfig;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/**
 * The peer side: the benchmark's model written a second time in DJL on PyTorch's CPU engine, as a Java team would
 * write it there (DJL's functional {@code Linear.linear}, {@code LayerNorm.layerNorm}, {@code Embedding.embedding},
 * its {@code GradientCollector} and its AdamW), trained on the same random token blocks with the same sizes, batch,
 * optimizer and schedule as {@link PlainTrain}:
 * <pre>
 * the layers, d_model, heads, context and batch of a {@link BenchModel.Size}; ffn 4 d_model, vocab 512, pre-norm
 * LayerNorm (eps 1e-5), learned positions, tied embeddings, GELU in its tanh form, causal softmax attention with a
 * 1/sqrt(D) scale, no dropout; N(0, 0.02) weights (the output projections N(0, 0.02 / sqrt(2 layers))); AdamW
 * lr 3e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.1 on matrices, warmup 100 then cosine, global-norm clipping
 * at 1.0.
 * </pre>
 * PyTorch's native library comes from the {@code pytorch-native-cpu} jar on the class path ({@code ai.djl.offline}
 * is set: nothing is downloaded). Each step is timed from the batch to the updated weights, as the other sides time
 * theirs, and the last line is a {@link ResultLine} with side {@code djl}.
 *
 * <pre>
 * java -cp &lt;bench classes&gt;:&lt;lib-djl&gt; org.align4j.bench.DjlTrain --steps 30 [--size small|large]
 *     [--threads N] [--seed 7]
 * </pre>
 */
public final class DjlTrain {
    private static final float EPS = 1e-5f;

    private DjlTrain() {
    }

    /** The parameters, in the align4j model's order and shapes (weights as {@code [out, in]}, DJL's layout). */
    static final class Model {
        final List<NDArray> all = new ArrayList<>();
        final List<Boolean> decayed = new ArrayList<>();
        final NDArray tokens;
        final NDArray positions;
        final NDArray[][] blocks;
        final NDArray lnFWeight;
        final NDArray lnFBias;
        final int heads;

        Model(NDManager m, ModelConfig c, long seed) {
            m.getEngine().setRandomSeed((int) seed);
            int d = c.dModel();
            int f = c.ffn();
            float std = c.initStd();
            float proj = (float) (std / Math.sqrt(2.0 * c.layers()));
            heads = c.heads();
            tokens = add(m.randomNormal(0, std, new Shape(c.vocabSize(), d), DataType.FLOAT32), true);
            positions = add(m.randomNormal(0, std, new Shape(c.context(), d), DataType.FLOAT32), false);
            blocks = new NDArray[c.layers()][];
            for (int i = 0; i < c.layers(); i++) {
                blocks[i] = new NDArray[] {
                    add(m.ones(new Shape(d)), false), add(m.zeros(new Shape(d)), false), // ln_1
                    add(m.randomNormal(0, std, new Shape(d, d), DataType.FLOAT32), true), add(m.zeros(new Shape(d)),
                            false), // q
                    add(m.randomNormal(0, std, new Shape(d, d), DataType.FLOAT32), true), add(m.zeros(new Shape(d)),
                            false), // k
                    add(m.randomNormal(0, std, new Shape(d, d), DataType.FLOAT32), true), add(m.zeros(new Shape(d)),
                            false), // v
                    add(m.randomNormal(0, proj, new Shape(d, d), DataType.FLOAT32), true), add(m.zeros(new Shape(d)),
                            false), // o
                    add(m.ones(new Shape(d)), false), add(m.zeros(new Shape(d)), false), // ln_2
                    add(m.randomNormal(0, std, new Shape(f, d), DataType.FLOAT32), true), add(m.zeros(new Shape(f)),
                            false), // mlp.fc
                    add(m.randomNormal(0, proj, new Shape(d, f), DataType.FLOAT32), true), add(m.zeros(new Shape(d)),
                            false)}; // mlp.proj
            }
            lnFWeight = add(m.ones(new Shape(d)), false);
            lnFBias = add(m.zeros(new Shape(d)), false);
            for (NDArray p : all) {
                p.setRequiresGradient(true);
            }
        }

        private NDArray add(NDArray p, boolean decay) {
            all.add(p);
            decayed.add(decay);
            return p;
        }

        long parameterCount() {
            return all.stream().mapToLong(p -> p.getShape().size()).sum();
        }

        /** The mean next-token cross-entropy of {@code in} ({@code [B, T]} ids, T = context) against {@code out}. */
        NDArray loss(NDArray in, NDArray out, NDArray causal) {
            long b = in.getShape().get(0);
            long t = in.getShape().get(1);
            long d = tokens.getShape().get(1);
            long hd = d / heads;
            NDArray x = Embedding.embedding(in, tokens, SparseFormat.DENSE).head().add(positions); // [B, T, d]
            for (NDArray[] p : blocks) {
                NDArray h = LayerNorm.layerNorm(x, new Shape(d), p[0], p[1], EPS).head(); // [B, T, d]
                NDArray q = Linear.linear(h, p[2], p[3]).head().reshape(b, t, heads, hd).transpose(0, 2, 1, 3);
                NDArray k = Linear.linear(h, p[4], p[5]).head().reshape(b, t, heads, hd).transpose(0, 2, 3, 1);
                NDArray v = Linear.linear(h, p[6], p[7]).head().reshape(b, t, heads, hd).transpose(0, 2, 1, 3);
                NDArray scores = q.matMul(k).mul(1.0 / Math.sqrt(hd)).add(causal); // [B, H, T, T]
                NDArray a = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d); // [B, T, d]
                x = x.add(Linear.linear(a, p[8], p[9]).head());
                h = LayerNorm.layerNorm(x, new Shape(d), p[10], p[11], EPS).head();
                NDArray u = Linear.linear(h, p[12], p[13]).head(); // [B, T, ffn]
                x = x.add(Linear.linear(gelu(u), p[14], p[15]).head());
            }
            NDArray h = LayerNorm.layerNorm(x, new Shape(d), lnFWeight, lnFBias, EPS).head();
            NDArray logits = Linear.linear(h, tokens).head(); // [B, T, V], tied
            NDArray picked = logits.logSoftmax(-1).gather(out.expandDims(-1), -1); // [B, T, 1]
            return picked.mean().neg();
        }
    }

    /**
     * The loss of one batch, its gradients left in the parameters' gradient arrays (zeroed first). The batch's
     * arrays live in a manager of the step: the forward pass's arrays attach to their first operand's manager, so
     * they all go when it closes.
     */
    static float forwardBackward(Engine engine, NDManager m, Model model, int[][] rows, int batch, int t,
            NDArray causal) {
        try (NDManager sm = m.newSubManager()) {
            int[] in = new int[batch * t];
            int[] out = new int[batch * t];
            for (int i = 0; i < batch; i++) {
                System.arraycopy(rows[i], 0, in, i * t, t);
                System.arraycopy(rows[i], 1, out, i * t, t);
            }
            NDArray inputs = sm.create(in, new Shape(batch, t)).toType(DataType.INT64, false);
            NDArray targets = sm.create(out, new Shape(batch, t)).toType(DataType.INT64, false);
            try (GradientCollector gc = engine.newGradientCollector()) {
                gc.zeroGradients();
                NDArray l = model.loss(inputs, targets, causal);
                gc.backward(l);
                return l.getFloat();
            }
        }
    }

    /** Fills every parameter's gradient with zeros (PyTorch's zero_, which a NaN does not survive). */
    static void clearGradients(Model model) {
        for (NDArray p : model.all) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /** The parameters' gradients, in {@link Model#all}'s order; the caller closes them. */
    static List<NDArray> gradients(Model model) {
        List<NDArray> grads = new ArrayList<>();
        for (NDArray p : model.all) {
            grads.add(p.getGradient());
        }
        return grads;
    }

    /** The sum of the squares of every gradient (not finite when any element is not). */
    static double squaredNorm(List<NDArray> grads) {
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray g2 = g.square(); NDArray s = g2.sum()) {
                sq += s.getFloat();
            }
        }
        return sq;
    }

    /** The first parameter whose gradient is not finite: its index, shape and how many elements are not finite. */
    static String firstNonFinite(Model model, List<NDArray> grads) {
        for (int i = 0; i < grads.size(); i++) {
            float[] g = grads.get(i).toFloatArray();
            int bad = 0;
            int firstRow = -1;
            long cols = model.all.get(i).getShape().dimension() > 1 ? model.all.get(i).getShape().get(1) : 1;
            for (int k = 0; k < g.length; k++) {
                if (!Float.isFinite(g[k])) {
                    bad++;
                    firstRow = firstRow < 0 ? (int) (k / cols) : firstRow;
                }
            }
            if (bad > 0) {
                return "parameter " + i + " " + model.all.get(i).getShape() + " (" + bad + " of " + g.length
                        + " elements, from row " + firstRow + ")";
            }
        }
        return "no parameter (the sum overflowed)";
    }

    /** {@code [t, t]}: 0 on and below the diagonal, -1e9 above it (added to attention scores). */
    static NDArray causal(NDManager m, int t) {
        float[] above = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                above[i * t + j] = -1e9f;
            }
        }
        return m.create(above, new Shape(t, t));
    }

    /** GELU in its tanh form, as the align4j model computes it: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static NDArray gelu(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(0.5).mul(inner.tanh().add(1));
    }

    /** Learning rate of 0-based {@code step}: linear warmup over {@code warmup} steps, then cosine to 0. */
    static float rate(int step, int steps, double lr, int warmup) {
        if (step < warmup) {
            return (float) (lr * (step + 1) / warmup);
        }
        double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, steps - warmup));
        return (float) (lr * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args("DjlTrain", argv, Set.of("steps", "threads", "seed", "size"), Set.of());
        int steps = args.integer("steps", 30, 1, 1_000_000);
        int threads = args.integer("threads", 0, 0, 4096);
        long seed = args.longValue("seed", BenchModel.SEED);
        BenchModel.Size size = args.size();
        System.setProperty("ai.djl.offline", "true");
        if (threads > 0) { // N threads inside ops, one op at a time, as on the other sides
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }

        long t0 = System.nanoTime();
        ModelConfig config = BenchModel.config(size);
        int batch = size.batch();
        int t = config.context();
        long tokensPerStep = BenchModel.tokensPerStep(config, batch);
        Map<String, Object> opt = BenchModel.optimizer();
        double lr = ((Number) opt.get("lr")).doubleValue();
        int warmup = ((Number) opt.get("warmup")).intValue();
        float clip = ((Number) opt.get("clip_norm")).floatValue();
        float decay = ((Number) opt.get("weight_decay")).floatValue();
        int[] stepNow = {0};
        Tracker schedule = n -> rate(stepNow[0], steps, lr, warmup);
        Optimizer adamw = Optimizer.adamW().optLearningRateTracker(schedule).optWeightDecays(0f).optBeta1(0.9f)
                .optBeta2(0.999f).optEpsilon(1e-8f).build();
        Optimizer adamwDecayed = Optimizer.adamW().optLearningRateTracker(schedule).optWeightDecays(decay)
                .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f).build();

        List<Double> tokensPerSecond = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<Double> stepEnds = new ArrayList<>();
        int recomputed = 0;
        Engine engine = Engine.getEngine("PyTorch");
        long params;
        double setupSeconds;
        try (NDManager m = engine.newBaseManager(Device.cpu())) {
            Model model = new Model(m, config, seed);
            params = model.parameterCount();
            if (params != config.parameterCount()) {
                throw new IllegalStateException("the DJL model has " + params + " parameters, but"
                        + " ModelConfig.parameterCount() says " + config.parameterCount());
            }
            NDArray causal = causal(m, t); // [T, T], built once
            System.out.println("djl: " + engine.getEngineName() + " " + engine.getVersion() + ", " + config + ", "
                    + params + " parameters; threads " + (threads == 0 ? "PyTorch's choice" : threads));
            setupSeconds = (System.nanoTime() - t0) / 1e9;
            SplittableRandom random = new SplittableRandom(seed);
            long first = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                long start = System.nanoTime();
                stepNow[0] = step;
                int[][] rows = PlainTrain.randomRows(random, batch, t + 1, config.vocabSize());
                float loss = forwardBackward(engine, m, model, rows, batch, t, causal);
                List<NDArray> grads = gradients(model);
                double sq = squaredNorm(grads);
                if (!Double.isFinite(sq)) {
                    // PyTorch has been seen to give a non-finite gradient at the large size where a repeat of the
                    // same run does not (always at step 17, the token embedding's first): say so, then compute the
                    // same step again once; a second non-finite gradient ends the run (it would poison every weight)
                    String where = firstNonFinite(model, grads);
                    grads.forEach(NDArray::close);
                    System.out.println("djl: step " + (step + 1) + ": the gradient is not finite (loss " + loss
                            + "), first in " + where + "; computing the step again");
                    recomputed++;
                    clearGradients(model); // DJL zeroes a gradient as g - g, which keeps a NaN
                    loss = forwardBackward(engine, m, model, rows, batch, t, causal);
                    grads = gradients(model);
                    sq = squaredNorm(grads);
                    if (!Double.isFinite(sq)) {
                        throw new IllegalStateException("the gradient is not finite at step " + (step + 1)
                                + " (loss " + loss + ") twice, first in " + firstNonFinite(model, grads));
                    }
                }
                float norm = (float) Math.sqrt(sq);
                float scale = norm > clip ? clip / (norm + 1e-6f) : 1f;
                for (int i = 0; i < model.all.size(); i++) {
                    Optimizer o = model.decayed.get(i) ? adamwDecayed : adamw;
                    if (scale == 1f) {
                        o.update("p" + i, model.all.get(i), grads.get(i));
                    } else {
                        try (NDArray clipped = grads.get(i).mul(scale)) {
                            o.update("p" + i, model.all.get(i), clipped);
                        }
                    }
                }
                grads.forEach(NDArray::close);
                if (!Float.isFinite(loss)) {
                    throw new IllegalStateException("loss is " + loss + " at step " + (step + 1));
                }
                long end = System.nanoTime();
                double secs = (end - start) / 1e9;
                double tps = tokensPerStep / Math.max(secs, 1e-9);
                tokensPerSecond.add(tps);
                losses.add((double) loss);
                stepEnds.add((end - first) / 1e9);
                System.out.printf("djl: step %d/%d loss %.4f grad_norm %.4f %.1f tokens/s%n", step + 1, steps, loss,
                        norm, tps);
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "djl");
        result.put("model", config.toString());
        result.put("parameters", params);
        result.put("runtime", "DJL " + Engine.getDjlVersion() + " on " + engine.getEngineName() + " "
                + engine.getVersion());
        result.put("setup_seconds", setupSeconds);
        result.put("step_tokens_per_second", tokensPerSecond);
        result.put("loss", losses);
        result.put("step_end_seconds", stepEnds);
        result.put("recomputed_steps", recomputed);
        System.out.println(ResultLine.format(result));
    }
}
