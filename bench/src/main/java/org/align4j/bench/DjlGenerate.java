package org.align4j.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.model.SafetensorsWeightStore;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * The peer of the generation benchmark: greedy KV-cached decoding of the same model, with the same weights (read from
 * the {@code model.safetensors} {@link GenerateBench} writes) and the same prompts, written in DJL 0.36 on PyTorch's
 * CPU engine as a Java team would write it there: the prompt in one pass that fills each block's key and value cache
 * ({@code [B, H, P, D]}), then one token a pass, its keys and values concatenated to the cache, the next token the
 * arg-max of the last position's logits. Weights are converted once at load from align4j's {@code [in, out]} to DJL's
 * {@code [out, in]}. Each step's arrays live in a manager of the step; the cache moves to the generation's manager and
 * the previous one is closed. Prints tokens/s (best of {@code --rounds} after one warm-up) and, in its
 * {@link ResultLine}, the generated tokens, which the driver compares with align4j's.
 *
 * <pre>
 * java -cp &lt;bench classes&gt;:&lt;lib-djl&gt; org.align4j.bench.DjlGenerate --weights FILE [--rounds 3]
 *     [--tokens 256] [--batch 8] [--prompt 32] [--threads N]
 * </pre>
 */
public final class DjlGenerate {
    private static final float EPS = 1e-5f;

    private DjlGenerate() {
    }

    /** The model's arrays, as DJL takes them. */
    private static final class Model {
        final NDArray tokens; // [V, d]
        final NDArray positions; // [context, d]
        final List<NDArray[]> blocks = new ArrayList<>();
        final NDArray lnFWeight;
        final NDArray lnFBias;

        Model(NDManager m, ModelConfig c, Map<String, TensorData> w) {
            tokens = plain(m, w, "model.tok_emb.weight");
            positions = plain(m, w, "model.pos_emb.weight");
            String[] order = {"ln_1.weight", "ln_1.bias", "attn.q.weight", "attn.q.bias", "attn.k.weight",
                "attn.k.bias", "attn.v.weight", "attn.v.bias", "attn.o.weight", "attn.o.bias", "ln_2.weight",
                "ln_2.bias", "mlp.fc.weight", "mlp.fc.bias", "mlp.proj.weight", "mlp.proj.bias"};
            for (int i = 0; i < c.layers(); i++) {
                NDArray[] b = new NDArray[order.length];
                for (int j = 0; j < order.length; j++) {
                    String name = "model.blocks." + i + "." + order[j];
                    b[j] = order[j].endsWith(".weight") && !order[j].startsWith("ln_") ? transposed(m, w, name)
                            : plain(m, w, name);
                }
                blocks.add(b);
            }
            lnFWeight = plain(m, w, "model.ln_f.weight");
            lnFBias = plain(m, w, "model.ln_f.bias");
        }

        private static TensorData get(Map<String, TensorData> w, String name) {
            TensorData t = w.get(name);
            if (t == null) {
                throw new IllegalArgumentException("the weights have no tensor " + name);
            }
            return t;
        }

        private static NDArray plain(NDManager m, Map<String, TensorData> w, String name) {
            TensorData t = get(w, name);
            return m.create(t.values(), new Shape(t.shape()));
        }

        /** An align4j matmul weight {@code [in, out]} as DJL's {@code [out, in]}. */
        private static NDArray transposed(NDManager m, Map<String, TensorData> w, String name) {
            TensorData t = get(w, name);
            int in = (int) t.shape()[0];
            int out = (int) t.shape()[1];
            float[] v = t.values();
            float[] tr = new float[v.length];
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < out; o++) {
                    tr[o * in + i] = v[i * out + o];
                }
            }
            return m.create(tr, new Shape(out, in));
        }
    }

    /**
     * Greedy decoding of {@code newTokens} tokens after {@code prompts} ({@code [B, P]}); returns {@code [B, N]}.
     */
    static int[][] generate(NDManager parent, Model model, ModelConfig c, int[][] prompts, int newTokens) {
        int b = prompts.length;
        int p = prompts[0].length;
        int heads = c.heads();
        int d = c.dModel();
        int hd = d / heads;
        int[][] out = new int[b][newTokens];
        try (NDManager gen = parent.newSubManager()) {
            NDArray[] keys = new NDArray[c.layers()];
            NDArray[] values = new NDArray[c.layers()];
            int[] ids = new int[b * p];
            for (int i = 0; i < b; i++) {
                System.arraycopy(prompts[i], 0, ids, i * p, p);
            }
            int fed = p; // tokens in the cache after this pass
            NDArray input = gen.create(ids, new Shape(b, p)).toType(DataType.INT64, false);
            for (int step = 0; step < newTokens; step++) {
                int t = (int) input.getShape().get(1);
                int offset = fed - t;
                try (NDManager sm = gen.newSubManager()) {
                    input.attach(sm);
                    // results join their first operand's manager: slices and views of what outlives the step
                    // (the positions, the cache) are moved to the step's manager, so they go with it
                    NDArray pos = model.positions.get(offset + ":" + (offset + t)); // [t, d]
                    pos.attach(sm);
                    NDArray x = Embedding.embedding(input, model.tokens, SparseFormat.DENSE).head().add(pos);
                    for (int l = 0; l < c.layers(); l++) {
                        NDArray[] w = model.blocks.get(l);
                        NDArray h = LayerNorm.layerNorm(x, new Shape(d), w[0], w[1], EPS).head(); // [B, t, d]
                        NDArray q = Linear.linear(h, w[2], w[3]).head().reshape(b, t, heads, hd)
                                .transpose(0, 2, 1, 3); // [B, H, t, D]
                        NDArray k = Linear.linear(h, w[4], w[5]).head().reshape(b, t, heads, hd)
                                .transpose(0, 2, 1, 3); // [B, H, t, D]
                        NDArray v = Linear.linear(h, w[6], w[7]).head().reshape(b, t, heads, hd)
                                .transpose(0, 2, 1, 3); // [B, H, t, D]
                        if (keys[l] != null) {
                            k = NDArrays.concat(new ai.djl.ndarray.NDList(keys[l], k), 2); // [B, H, fed, D]
                            v = NDArrays.concat(new ai.djl.ndarray.NDList(values[l], v), 2);
                            keys[l].close();
                            values[l].close();
                        }
                        keys[l] = k;
                        values[l] = v;
                        k.attach(gen); // the cache outlives the step
                        v.attach(gen);
                        NDArray kt = k.transpose(0, 1, 3, 2); // [B, H, D, fed]
                        kt.attach(sm);
                        NDArray scores = q.matMul(kt).mul(1.0 / Math.sqrt(hd)); // [B, H, t, fed]
                        if (t > 1) { // the prompt's pass: causal within it; one new token sees every cached one
                            scores = scores.add(DjlTrain.causal(sm, t));
                        }
                        NDArray a = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d);
                        x = x.add(Linear.linear(a, w[8], w[9]).head());
                        h = LayerNorm.layerNorm(x, new Shape(d), w[10], w[11], EPS).head();
                        x = x.add(Linear.linear(DjlTrain.gelu(Linear.linear(h, w[12], w[13]).head()), w[14], w[15])
                                .head());
                    }
                    NDArray last = x.get(":, -1, :"); // [B, d]
                    NDArray h = LayerNorm.layerNorm(last, new Shape(d), model.lnFWeight, model.lnFBias, EPS).head();
                    NDArray next = Linear.linear(h, model.tokens).head().argMax(-1); // [B], tied head
                    long[] picked = next.toLongArray();
                    int[] nextIds = new int[b];
                    for (int i = 0; i < b; i++) {
                        out[i][step] = (int) picked[i];
                        nextIds[i] = (int) picked[i];
                    }
                    input = gen.create(nextIds, new Shape(b, 1)).toType(DataType.INT64, false);
                    fed++;
                }
            }
        }
        return out;
    }


    public static void main(String[] argv) throws Exception {
        Args args = new Args("DjlGenerate", argv, Set.of("weights", "rounds", "tokens", "batch", "prompt", "threads"),
                Set.of());
        String weights = args.string("weights", null);
        if (weights == null) {
            throw args.usage("--weights: the model.safetensors GenerateBench wrote");
        }
        int rounds = args.integer("rounds", 3, 1, 1000);
        int newTokens = args.integer("tokens", 256, 1, 100_000);
        int batch = args.integer("batch", 8, 1, 4096);
        int promptLength = args.integer("prompt", 32, 1, 100_000);
        int threads = args.integer("threads", 0, 0, 4096);
        System.setProperty("ai.djl.offline", "true");
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        ModelConfig config = GenerateBench.config(promptLength, newTokens);
        int[][] prompts = GenerateBench.prompts(config, batch, promptLength).toArray(int[][]::new);
        Map<String, TensorData> w = new SafetensorsWeightStore().load(Path.of(weights)).tensors();
        Engine engine = Engine.getEngine("PyTorch");
        double best = Double.MAX_VALUE;
        int[][] tokens;
        try (NDManager m = engine.newBaseManager(Device.cpu())) {
            Model model = new Model(m, config, w);
            generate(m, model, config, prompts, Math.min(16, newTokens)); // warm-up
            tokens = null;
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                tokens = generate(m, model, config, prompts, newTokens);
                double secs = (System.nanoTime() - t0) / 1e9;
                best = Math.min(best, secs);
                System.out.printf(java.util.Locale.ROOT, "djl: round %d: %.2f s%n", round + 1, secs);
            }
        }
        long count = (long) batch * newTokens;
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "djl-generate");
        result.put("runtime", "DJL " + Engine.getDjlVersion() + " on " + engine.getEngineName() + " "
                + engine.getVersion());
        result.put("tokens_per_second", count / best);
        result.put("best_seconds", best);
        result.put("tokens", tokens);
        result.put("peak_rss_kb", GenerateBench.peakRssKb());
        System.out.println(ResultLine.format(result));
    }
}
