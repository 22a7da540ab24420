package org.align4j.trainer.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.Content;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.data.Record;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.data.CollatorImpl;
import org.align4j.loss.lm.CausalLanguageModelLoss;
import org.align4j.model.CheckpointStoreImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.ConstantSchedule;
import org.align4j.optimizers.SgdOptimizer;
import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.align4j.training.TrainerGuard;
import org.align4j.training.TrainingLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
 * The SFT method on the shared loop with a tiny real model: the training loss and the held-out loss are the mean
 * negative log-likelihood of the completion tokens only, checked against the same mean computed in double precision
 * from the model's logits, one unpadded example at a time.
 */
class SftMethodTest {
    static final TensorFlowRuntimeImpl RUNTIME = new TensorFlowRuntimeImpl("cpu", 1, 1, false, 7);

    @TempDir
    Path tmp;

    static List<SftExample> examples(Tokenizer tok, int from, int to) {
        List<SftExample> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(SftExample.of(new PromptCompletionExample("data/sft.jsonl", i + 1,
                    Content.text("What is " + i + "+" + (i % 3) + "?"), Content.text(" It is " + (i + i % 3) + ".")),
                    tok, ChatTemplate.DEFAULT));
        }
        return out;
    }

    /**
     * Sum and count of {@code -log p(token)} over the tokens of {@code examples} that are in the loss, each predicted
     * from the tokens before it, in double precision from the logits of a model with {@code weights} (names
     * {@code model.*}), or seeded with {@code seed} when {@code weights} is null.
     */
    static double[] completionNll(ModelConfig config, Map<String, TensorData> weights, long seed,
            List<SftExample> examples) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "model.", config, new StandardAttention());
            Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(1, -1))); // [1, T]
            Operand<TFloat32> logits = m.lmLogits(tf, m.hidden(tf, tokens, null)); // [1, T, V]
            try (Session s = new Session(g)) {
                if (weights == null) {
                    m.initialize(s, seed);
                } else {
                    m.assign(s, weights, false);
                }
                double sum = 0;
                long count = 0;
                for (SftExample e : examples) {
                    int[] ids = e.sequence.ids();
                    boolean[] mask = e.sequence.lossMask();
                    int[] in = java.util.Arrays.copyOf(ids, ids.length - 1);
                    try (TInt32 t = TInt32.tensorOf(Shape.of(1, in.length), DataBuffers.of(in, true, false));
                            Result r = s.runner().feed(tokens, t).fetch(logits).run()) {
                        TFloat32 l = (TFloat32) r.get(0);
                        for (int j = 0; j < in.length; j++) {
                            if (!mask[j + 1]) {
                                continue;
                            }
                            double max = Double.NEGATIVE_INFINITY;
                            for (int v = 0; v < config.vocabSize(); v++) {
                                max = Math.max(max, l.getFloat(0, j, v));
                            }
                            double z = 0;
                            for (int v = 0; v < config.vocabSize(); v++) {
                                z += Math.exp(l.getFloat(0, j, v) - max);
                            }
                            sum += max + Math.log(z) - l.getFloat(0, j, ids[j + 1]);
                            count++;
                        }
                    }
                }
                return new double[] {sum, count};
            }
        }
    }

    @Test
    void theLossesAreTheMeanNllOfTheCompletionTokensOnly() throws Exception {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            corpus.add("What is " + i + "+" + (i % 3) + "? It is " + (i + i % 3) + ".");
        }
        Tokenizer tok = new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 300)),
                n -> { });
        ModelConfig config = ModelConfig.builder().vocabSize(tok.vocabSize()).layers(1).dModel(16).heads(2).ffn(32)
                .context(24).initStd(0.2f).build();
        List<SftExample> train = examples(tok, 0, 8);
        List<SftExample> valid = examples(tok, 8, 12);
        for (SftExample e : train) {
            assertTrue(e.sequence.length() <= config.context() + 1, "fits without truncation");
        }
        Map<String, Object> stage = new LinkedHashMap<>();
        stage.put("trainer", "sft");
        stage.put("steps", 2);
        stage.put("batch", train.size()); // the whole training set each step: the mean does not depend on order
        stage.put("optimizer", Map.of("name", "sgd", "lr", 0.05, "schedule", "constant"));
        stage.put("exact_match", Map.of("samples", 0));
        stage.put("sample", Map.of("count", 0));
        Ctx ctx = new Ctx(tmp, 21, tok, stage);
        SftSettings cfg = new SftSettings(ctx.settings());
        SftMethod method = new SftMethod(cfg, config, new StandardAttention(), new CausalLanguageModelLoss(), tok,
                new CollatorImpl(), null, null, train, valid, ctx.seed(), null);
        SafetensorsWeightStore weights = new SafetensorsWeightStore();
        TrainingResult r = new TrainingLoop(RUNTIME, new TransformerFactoryImpl(), new CheckpointStoreImpl(),
                weights, new TrainerGuard()).run(ctx, cfg.loop, method, new SgdOptimizer(), new ConstantSchedule());
        assertEquals(TrainingResult.Status.COMPLETED, r.status());

        List<Double> losses = new ArrayList<>();
        for (TrainingEvent e : ctx.events) {
            if (e.kind() == TrainingEvent.Kind.STEP) {
                losses.add(e.metrics().get(MetricNames.LOSS));
            }
        }
        assertEquals(2, losses.size());
        double[] first = completionNll(config, null, ctx.seed(), train);
        double expected = first[0] / first[1];
        System.out.printf("sft step 1: loss %.6f, double-precision reference %.6f over %d completion tokens%n",
                losses.get(0), expected, (long) first[1]);
        assertEquals(expected, losses.get(0), 1e-4 * expected, "step 1 loss");
        assertTrue(losses.get(1) < losses.get(0), "a small SGD step on the same batch lowers the loss: " + losses);

        // the held-out loss of the final weights, as written to the model folder
        Map<String, TensorData> trained = weights.load(r.output().resolve("model.safetensors")).tensors();
        double[] held = completionNll(config, trained, 0, valid);
        double evalLoss = r.metrics().get(MetricNames.EVAL_LOSS);
        System.out.printf("sft eval_loss %.6f, double-precision reference %.6f over %d completion tokens%n",
                evalLoss, held[0] / held[1], (long) held[1]);
        assertEquals(held[0] / held[1], evalLoss, 1e-4 * evalLoss, "eval_loss");
        assertEquals(Math.exp(evalLoss), r.metrics().get(MetricNames.EVAL_PERPLEXITY), 1e-9 * Math.exp(evalLoss));
    }

    /** Stands in for the pipeline: records events, never stops. */
    static final class Ctx implements TrainingContext {
        final Path dir;
        final long seed;
        final Tokenizer tok;
        final Settings stage;
        final List<TrainingEvent> events = new ArrayList<>();

        Ctx(Path dir, long seed, Tokenizer tok, Map<String, Object> stage) {
            this.dir = dir;
            this.seed = seed;
            this.tok = tok;
            this.stage = Settings.of("sft.yaml", stage);
        }

        @Override
        public String run() {
            return "test";
        }

        @Override
        public String stage() {
            return "0:sft";
        }

        @Override
        public Path workDir() {
            return dir;
        }

        @Override
        public Settings settings() {
            return stage;
        }

        @Override
        public Settings model() {
            return stage.section("model");
        }

        @Override
        public Settings data() {
            return stage.section("data");
        }

        @Override
        public long seed() {
            return seed;
        }

        @Override
        public Tokenizer tokenizer() {
            return tok;
        }

        @Override
        public List<Record> train() {
            return List.of();
        }

        @Override
        public List<Record> validation() {
            return List.of();
        }

        @Override
        public TrainingEvent.Builder event(TrainingEvent.Kind kind) {
            return TrainingEvent.builder(kind, run()).stage(stage()).workDir(dir);
        }

        @Override
        public void publish(TrainingEvent event) {
            events.add(event);
        }

        @Override
        public boolean stopRequested() {
            return false;
        }

        @Override
        public String stopReason() {
            return "";
        }

        @Override
        public void count(String counter, long n) {
        }
    }
}
