package org.align4j.trainer.pretrain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainingMethod;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Causal language modelling on packed blocks, as a method of the shared loop: one trained model ({@code policy}),
 * the loss of every next token of a block, evaluation as validation loss and perplexity (and the training split's
 * unigram perplexity at the end), samples after the last step.
 */
final class PretrainMethod implements TrainingMethod {
    private final PretrainSettings cfg;
    private final ModelConfig config;
    private final AttentionKernel kernel;
    private final LanguageModelLoss lossFn;
    private final Tokenizer tokenizer;
    private final BatchSource batches;
    private final int[][] valid;
    private final double unigram;
    private final long seed;
    private final java.nio.file.Path init;
    private final Generator generator;

    private Placeholder<TInt32> tokens; // [B, T]
    private Placeholder<TInt32> targets; // [B, T]
    private Placeholder<TFloat32> mask; // [B, T]
    private Operand<TFloat32> loss; // []

    PretrainMethod(PretrainSettings cfg, ModelConfig config, AttentionKernel kernel, LanguageModelLoss lossFn,
            Tokenizer tokenizer, BatchSource batches, int[][] valid, double unigram, long seed,
            java.nio.file.Path init, Generator generator) {
        this.cfg = cfg;
        this.config = config;
        this.kernel = kernel;
        this.lossFn = lossFn;
        this.tokenizer = tokenizer;
        this.batches = batches;
        this.valid = valid;
        this.unigram = unigram;
        this.seed = seed;
        this.init = init;
        this.generator = generator;
    }

    @Override
    public String name() {
        return "pretrain";
    }

    @Override
    public List<ModelSpec> models() {
        return List.of(ModelSpec.trained(ModelSpec.POLICY, config, kernel).initFrom(init)); // init: further pre-training
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        Transformer model = models.get(ModelSpec.POLICY);
        Operand<TFloat32> hidden = model.hidden(tf, tokens, null); // [B, T, d]
        Operand<TFloat32> logits = model.lmLogits(tf, hidden); // [B, T, V]
        loss = lossFn.compute(tf, logits, targets, mask).loss(); // []
        return Objective.minimize(loss);
    }

    @Override
    public Feeds batch(long step) {
        return rows(batches.batch(step));
    }

    /** Inputs, shifted targets and an all-ones mask of packed rows {@code [B, L + 1]}. */
    private Feeds rows(int[][] rows) {
        int b = rows.length;
        int l = rows[0].length - 1;
        int[] in = new int[b * l];
        int[] out = new int[b * l];
        float[] m = new float[b * l];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, in, i * l, l);
            System.arraycopy(rows[i], 1, out, i * l, l);
        }
        Arrays.fill(m, 1f);
        return new Feeds().ints(tokens, b, in).ints(targets, b, out).floats(mask, b, m);
    }

    @Override
    public long tokensPerStep() {
        return (long) cfg.batch * config.context();
    }

    @Override
    public double epoch(long step) {
        return batches.epoch(step);
    }

    @Override
    public Map<String, Double> stepMetrics(Map<String, Double> fetched) {
        return Map.of(MetricNames.PERPLEXITY, Math.exp(fetched.get(MetricNames.LOSS)));
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean last) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (valid.length == 0) {
            return m;
        }
        // the final evaluation sees every block
        int count = last ? (valid.length + cfg.batch - 1) / cfg.batch
                : Math.min(cfg.evalBatches, (valid.length + cfg.batch - 1) / cfg.batch);
        double sum = 0;
        long rows = 0;
        for (int b = 0; b < count; b++) {
            int from = b * cfg.batch;
            int to = Math.min(valid.length, from + cfg.batch);
            int[][] chunk = Arrays.copyOfRange(valid, from, to);
            try (Feeds f = rows(chunk); Result r = f.feed(run.session().runner()).fetch(loss).run()) {
                sum += (double) ((TFloat32) r.get(0)).getFloat() * chunk.length; // every row has as many tokens
            }
            rows += chunk.length;
        }
        double evalLoss = sum / rows;
        m.put(MetricNames.EVAL_LOSS, evalLoss);
        m.put(MetricNames.EVAL_PERPLEXITY, Math.exp(evalLoss));
        if (last) {
            m.put(MetricNames.EVAL_UNIGRAM_PERPLEXITY, unigram);
        }
        return m;
    }

    /** Samples from the trained model through the generation service: the first greedy, the others with temperature. */
    @Override
    public List<String> finish(StageRun run) {
        List<String> out = new ArrayList<>();
        if (cfg.sampleCount == 0) {
            return out;
        }
        try (GenerationSession g = generator.open(config, kernel,
                run.models().get(ModelSpec.POLICY).read(run.session()))) {
            g.warnings().forEach(w -> run.message(cfg.steps, "samples: " + w));
            for (int i = 0; i < cfg.sampleCount; i++) {
                String prompt = cfg.samplePrompts.isEmpty() ? ""
                        : cfg.samplePrompts.get(i % cfg.samplePrompts.size());
                double temperature = i == 0 ? 0.0 : cfg.sampleTemperature;
                int[] ids = tokenizer.encode(prompt);
                int[] input = new int[ids.length + 1];
                input[0] = tokenizer.eosId(); // a document starts after an end-of-text token, as in the corpus
                System.arraycopy(ids, 0, input, 1, ids.length);
                int room = Math.min(cfg.sampleMaxTokens, config.context() - input.length);
                String text = prompt;
                if (room > 0) {
                    GenerationSettings settings = GenerationSettings.builder().maxNewTokens(room)
                            .temperature(temperature).seed((seed ^ 0x5A4D_504CL) + i)
                            .stopTokens(tokenizer.eosId()).build();
                    int[] generated = g.generate(List.of(input), settings).get(0).get(0).tokens();
                    int[] all = Arrays.copyOf(ids, ids.length + generated.length);
                    System.arraycopy(generated, 0, all, ids.length, generated.length);
                    text = tokenizer.decode(all);
                }
                out.add(text);
                run.message(cfg.steps, String.format("sample %d (%s): %s", i + 1,
                        temperature == 0 ? "greedy" : "temperature " + temperature, text.replace("\n", "\\n")));
            }
        }
        return out;
    }
}
