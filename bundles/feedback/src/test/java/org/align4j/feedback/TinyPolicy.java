package org.align4j.feedback;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.task.TaskExample;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.task.arithmetic.ArithmeticTask;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.tensorflow.Graph;
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
 * A tiny policy for end-to-end tests: a BPE tokenizer and a one-layer transformer trained for a few Adam steps (in
 * Java, on gradients from TensorFlow) on worked answers of one-digit additions, so that its samples are sometimes
 * right and sometimes wrong. Saved as a model folder ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}) as a stage writes it.
 */
final class TinyPolicy {
    final Tokenizer tokenizer;
    final List<TaskExample> examples;
    final Path folder;
    final double firstLoss;
    final double lastLoss;

    private TinyPolicy(Tokenizer tokenizer, List<TaskExample> examples, Path folder, double firstLoss,
            double lastLoss) {
        this.tokenizer = tokenizer;
        this.examples = examples;
        this.folder = folder;
        this.firstLoss = firstLoss;
        this.lastLoss = lastLoss;
    }

    static TinyPolicy train(Path folder, int count, int steps, long seed) throws IOException {
        List<TaskExample> examples = new ArrayList<>(new ArithmeticTask().generate(
                Settings.of("test", Map.of("count", count, "digits", 1, "ops", "+")), seed));
        List<String> corpus = new ArrayList<>();
        for (TaskExample e : examples) {
            corpus.add(e.prompt() + e.completion());
        }
        Tokenizer tok = new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 300)),
                n -> { });
        ModelConfig config = ModelConfig.builder().vocabSize(tok.vocabSize()).layers(1).dModel(32).heads(2).ffn(64)
                .context(48).initStd(0.1f).build();
        // <eos> prompt completion <eos>, right-padded with <eos>; the loss counts completion tokens only
        List<int[]> seqs = new ArrayList<>();
        List<Integer> promptLengths = new ArrayList<>();
        int longest = 0;
        for (TaskExample e : examples) {
            int[] p = tok.encode(e.prompt());
            int[] c = tok.encode(e.completion());
            int[] s = new int[p.length + c.length + 2];
            s[0] = tok.eosId();
            System.arraycopy(p, 0, s, 1, p.length);
            System.arraycopy(c, 0, s, 1 + p.length, c.length);
            s[s.length - 1] = tok.eosId();
            seqs.add(s);
            promptLengths.add(1 + p.length);
            longest = Math.max(longest, s.length);
        }
        int b = seqs.size();
        int t = longest - 1;
        int[] in = new int[b * t];
        int[] out = new int[b * t];
        float[] mask = new float[b * t];
        for (int r = 0; r < b; r++) {
            int[] s = seqs.get(r);
            int from = promptLengths.get(r);
            for (int j = 0; j < t; j++) {
                in[r * t + j] = j < s.length ? s[j] : tok.eosId();
                out[r * t + j] = j + 1 < s.length ? s[j + 1] : tok.eosId();
                mask[r * t + j] = j + 1 >= from && j + 1 < s.length ? 1f : 0f; // completion tokens
            }
        }
        double first;
        double last;
        Map<String, TensorData> weights;
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "model.", config, new StandardAttention());
            Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1))); // [B, T]
            Placeholder<TInt32> targets = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1))); // [B, T]
            Placeholder<TFloat32> weight = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> logits = m.lmLogits(tf, m.hidden(tf, tokens, null)); // [B, T, V]
            Operand<TFloat32> logp = tf.nn.logSoftmax(logits); // [B, T, V]
            Operand<TFloat32> onehot = tf.oneHot(targets, tf.constant(config.vocabSize()), tf.constant(1f),
                    tf.constant(0f)); // [B, T, V]
            Operand<TFloat32> nll = tf.math.neg(tf.reduceSum(tf.math.mul(onehot, logp), tf.constant(-1))); // [B, T]
            Operand<TFloat32> loss = tf.math.div(tf.reduceSum(tf.math.mul(nll, weight), tf.constant(new int[] {0, 1})),
                    tf.reduceSum(weight, tf.constant(new int[] {0, 1}))); // []
            List<Parameter> params = new ArrayList<>();
            for (Parameter p : m.parameters()) {
                if (!p.name().contains("score_head")) { // the scalar head of reward models: no language-model loss
                    params.add(p);
                }
            }
            List<Operand<?>> xs = new ArrayList<>();
            params.forEach(p -> xs.add(p.value()));
            List<Operand<?>> grads = new ArrayList<>();
            tf.gradients(loss, xs).forEach(grads::add);
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                Map<String, TensorData> current = m.read(s);
                Map<String, float[]> mom = new LinkedHashMap<>();
                Map<String, float[]> vel = new LinkedHashMap<>();
                double peak = 0.01;
                double b1 = 0.9;
                double b2 = 0.999;
                first = Double.NaN;
                last = Double.NaN;
                for (int step = 1; step <= steps; step++) {
                    double lr = peak * 0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps)); // cosine to 0
                    try (TInt32 ti = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(in, true, false));
                            TInt32 to = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(out, true, false));
                            TFloat32 tw = TFloat32.tensorOf(Shape.of(b, t), DataBuffers.of(mask, true, false))) {
                        Session.Runner runner = s.runner().feed(tokens, ti).feed(targets, to).feed(weight, tw)
                                .fetch(loss);
                        grads.forEach(runner::fetch);
                        try (Result r = runner.run()) {
                            last = ((TFloat32) r.get(0)).getFloat();
                            if (step == 1) {
                                first = last;
                            }
                            Map<String, TensorData> next = new LinkedHashMap<>(current);
                            for (int i = 0; i < params.size(); i++) {
                                String name = params.get(i).name();
                                TensorData w = current.get(name);
                                float[] gr = new float[w.size()];
                                ((TFloat32) r.get(i + 1)).copyTo(DataBuffers.of(gr, false, false));
                                float[] mo = mom.computeIfAbsent(name, k -> new float[gr.length]);
                                float[] ve = vel.computeIfAbsent(name, k -> new float[gr.length]);
                                float[] v = w.values();
                                double c1 = 1 - Math.pow(b1, step);
                                double c2 = 1 - Math.pow(b2, step);
                                for (int j = 0; j < v.length; j++) {
                                    mo[j] = (float) (b1 * mo[j] + (1 - b1) * gr[j]);
                                    ve[j] = (float) (b2 * ve[j] + (1 - b2) * gr[j] * gr[j]);
                                    v[j] -= (float) (lr * (mo[j] / c1) / (Math.sqrt(ve[j] / c2) + 1e-8));
                                }
                                next.put(name, new TensorData(w.shape(), v));
                            }
                            current = next;
                            m.assign(s, current, false);
                        }
                    }
                }
                weights = m.read(s);
            }
        }
        Files.createDirectories(folder);
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        store.save(folder.resolve("model.safetensors"), weights, Map.of("format", "align4j"));
        store.saveConfig(folder.resolve("config.json"), config);
        tok.save(folder.resolve("tokenizer.json"));
        return new TinyPolicy(tok, examples, folder, first, last);
    }
}
