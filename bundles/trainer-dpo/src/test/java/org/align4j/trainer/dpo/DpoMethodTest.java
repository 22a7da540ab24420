package org.align4j.trainer.dpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.Content;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.Record;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PreferenceBatch;
import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.data.CollatorImpl;
import org.align4j.model.CheckpointStoreImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.ConstantSchedule;
import org.align4j.optimizers.SgdOptimizer;
import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainerGuard;
import org.align4j.training.TrainingLoop;
import org.align4j.training.TrainingMethod;
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
 * The DPO method on the shared loop with a tiny real model started from a model folder: the policy's and the
 * reference's summed completion log-probabilities against a double-precision reference, the first loss at exactly
 * {@code ln 2} (policy and reference start equal), the reference's weights unchanged by training, and the same
 * losses whether the reference's log-probabilities are precomputed or computed per batch.
 */
class DpoMethodTest {
    static final TensorFlowRuntimeImpl RUNTIME = new TensorFlowRuntimeImpl("cpu", 1, 1, false, 7);

    @TempDir
    Path tmp;

    /** Sigmoid DPO written out, with the batch's sums as metrics (the loss bundles have their own tests). */
    static final class PlainDpo implements PreferenceLoss {
        @Override
        public LossResult compute(Ops tf, PreferenceBatch b) {
            Operand<TFloat32> logits = tf.math.sub(tf.math.sub(b.policyChosen(), b.policyRejected()),
                    tf.math.sub(b.referenceChosen(), b.referenceRejected()));
            Operand<TFloat32> loss = tf.math.mean(tf.math.softplus(tf.math.neg(tf.math.mul(logits,
                    tf.constant(b.beta())))), tf.constant(0));
            Map<String, Operand<TFloat32>> m = new LinkedHashMap<>();
            m.put("logps/chosen", tf.math.mean(b.policyChosen(), tf.constant(0)));
            m.put("logps/rejected", tf.math.mean(b.policyRejected(), tf.constant(0)));
            m.put("ref/chosen", tf.math.mean(b.referenceChosen(), tf.constant(0)));
            m.put("ref/rejected", tf.math.mean(b.referenceRejected(), tf.constant(0)));
            m.put("tokens/chosen", tf.math.mean(b.chosenTokens().orElseThrow(), tf.constant(0)));
            return LossResult.of(loss, m);
        }
    }

    static Tokenizer tokenizer() {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            corpus.add("What is " + i + "+" + (i % 3) + "? It is " + (i + i % 3) + ".");
        }
        return new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 300)), n -> { });
    }

    static List<DpoPair> pairs(Tokenizer tok, int from, int to) {
        List<DpoPair> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(DpoPair.of(new PairwiseExample("data/pairs.jsonl", i + 1, Content.text("What is " + i + "+"
                    + (i % 3) + "?"), Content.text(" It is " + (i + i % 3) + "."), Content.text(" It is "
                            + (i + i % 3 + 1) + "."), java.util.OptionalDouble.empty()), tok));
        }
        return out;
    }

    /** A seeded model written as a model folder (as a stage writes {@code <stage>/model}). */
    static Path folder(Path dir, ModelConfig config, Tokenizer tok, long seed) throws Exception {
        Files.createDirectories(dir);
        Map<String, TensorData> w;
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                w = m.read(s);
            }
        }
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        store.save(dir.resolve("model.safetensors"), w, Map.of("format", "align4j"));
        store.saveConfig(dir.resolve("config.json"), config);
        tok.save(dir.resolve("tokenizer.json"));
        return dir;
    }

    /** Per sequence, {@code sum log p(token)} over its completion tokens, in double from the folder's weights. */
    static double[] sums(ModelConfig config, Map<String, TensorData> weights, List<org.align4j.api.data.TokenSequence>
            seqs) {
        double[] out = new double[seqs.size()];
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "model.", config, new StandardAttention());
            Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(1, -1)));
            Operand<TFloat32> logits = m.lmLogits(tf, m.hidden(tf, tokens, null)); // [1, T, V]
            try (Session s = new Session(g)) {
                m.assign(s, weights, false);
                for (int k = 0; k < seqs.size(); k++) {
                    int[] ids = seqs.get(k).ids();
                    int[] in = java.util.Arrays.copyOf(ids, ids.length - 1);
                    try (TInt32 t = TInt32.tensorOf(Shape.of(1, in.length), DataBuffers.of(in, true, false));
                            Result r = s.runner().feed(tokens, t).fetch(logits).run()) {
                        TFloat32 l = (TFloat32) r.get(0);
                        for (int j = 0; j < in.length; j++) {
                            if (!seqs.get(k).inLoss(j + 1)) {
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
                            out[k] += l.getFloat(0, j, ids[j + 1]) - max - Math.log(z);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Forwards to a method, and reads the reference's weights at the end (before the session closes). */
    static final class Watched implements TrainingMethod {
        final TrainingMethod inner;
        Map<String, TensorData> referenceAtEnd;

        Watched(TrainingMethod inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public List<ModelSpec> models() {
            return inner.models();
        }

        @Override
        public Objective build(Ops tf, StageRun.Models models) {
            return inner.build(tf, models);
        }

        @Override
        public Feeds batch(long step) {
            return inner.batch(step);
        }

        @Override
        public long tokensPerStep() {
            return inner.tokensPerStep();
        }

        @Override
        public void beforeStep(StageRun run, long step) throws Exception {
            inner.beforeStep(run, step);
        }

        @Override
        public Map<String, Double> evaluate(StageRun run, long step, boolean last) throws Exception {
            return inner.evaluate(run, step, last);
        }

        @Override
        public List<String> finish(StageRun run) throws Exception {
            referenceAtEnd = run.models().get(ModelSpec.REFERENCE).read(run.session());
            return inner.finish(run);
        }
    }

    private static final class Run {
        final List<Double> losses = new ArrayList<>();
        final List<Map<String, Double>> metrics = new ArrayList<>();
        Map<String, TensorData> referenceAtEnd;
        TrainingResult result;
    }

    private Run train(String mode, Path init, ModelConfig config, Tokenizer tok, List<DpoPair> train,
            List<DpoPair> valid, Path dir) throws Exception {
        return train(mode, init, config, tok, train, valid, dir, Map.of());
    }

    private Run train(String mode, Path init, ModelConfig config, Tokenizer tok, List<DpoPair> train,
            List<DpoPair> valid, Path dir, Map<String, Object> extra) throws Exception {
        Map<String, Object> stage = new LinkedHashMap<>();
        stage.put("trainer", "dpo");
        stage.put("steps", 3);
        stage.put("batch", train.size()); // the whole set each step: the metrics compare step to step
        stage.put("beta", 0.5);
        stage.put("reference_logps", mode);
        stage.put("optimizer", Map.of("name", "sgd", "lr", 0.5, "schedule", "constant"));
        stage.put("exact_match", Map.of("samples", 0));
        stage.putAll(extra);
        Ctx ctx = new Ctx(dir, 21, tok, stage);
        DpoSettings cfg = new DpoSettings(ctx.settings());
        Watched method = new Watched(new DpoMethod(cfg, config, new StandardAttention(), new PlainDpo(),
                Settings.empty("dpo.yaml", "loss"), new CollatorImpl(), tok.padId(), null, train, valid, ctx.seed(),
                init, init));
        Run run = new Run();
        run.result = new TrainingLoop(RUNTIME, new TransformerFactoryImpl(), new CheckpointStoreImpl(),
                new SafetensorsWeightStore(), new TrainerGuard()).run(ctx, cfg.loop, method, new SgdOptimizer(),
                        new ConstantSchedule());
        for (TrainingEvent e : ctx.events) {
            if (e.kind() == TrainingEvent.Kind.STEP) {
                run.losses.add(e.metrics().get(MetricNames.LOSS));
                run.metrics.add(e.metrics());
            }
        }
        run.referenceAtEnd = method.referenceAtEnd;
        return run;
    }

    @Test
    void policyAgainstAFrozenReference() throws Exception {
        Tokenizer tok = tokenizer();
        ModelConfig config = ModelConfig.builder().vocabSize(tok.vocabSize()).layers(1).dModel(16).heads(2).ffn(32)
                .context(24).initStd(0.2f).build();
        Path init = folder(tmp.resolve("sft"), config, tok, 5);
        Map<String, TensorData> initial = new SafetensorsWeightStore().load(init.resolve("model.safetensors"))
                .tensors();
        List<DpoPair> train = pairs(tok, 0, 6);
        List<DpoPair> valid = pairs(tok, 6, 9);
        Run pre = train("precompute", init, config, tok, train, valid, tmp.resolve("pre"));
        assertEquals(TrainingResult.Status.COMPLETED, pre.result.status());
        assertEquals(3, pre.losses.size());

        // step 1: policy = reference, so every log-ratio is 0 and the loss is log 2
        System.out.printf("dpo losses (precomputed reference) %s%n", pre.losses);
        assertEquals(Math.log(2), pre.losses.get(0), 1e-6, "step 1 loss");
        assertTrue(pre.losses.get(2) < pre.losses.get(0), "SGD on the same batch lowers the loss: " + pre.losses);

        // the summed completion log-probabilities, against double precision from the folder's weights
        List<org.align4j.api.data.TokenSequence> chosen = new ArrayList<>();
        List<org.align4j.api.data.TokenSequence> rejected = new ArrayList<>();
        for (DpoPair p : train) {
            chosen.add(p.chosen);
            rejected.add(p.rejected);
        }
        double refChosen = java.util.Arrays.stream(sums(config, initial, chosen)).average().orElseThrow();
        double refRejected = java.util.Arrays.stream(sums(config, initial, rejected)).average().orElseThrow();
        System.out.printf("step 1: logps/chosen %.6f, logps/rejected %.6f; double-precision %.6f, %.6f%n",
                pre.metrics.get(0).get("logps/chosen"), pre.metrics.get(0).get("logps/rejected"), refChosen,
                refRejected);
        for (Map<String, Double> m : List.of(pre.metrics.get(0), pre.metrics.get(2))) { // the reference never moves
            assertEquals(refChosen, m.get("ref/chosen"), 1e-4 * Math.abs(refChosen));
            assertEquals(refRejected, m.get("ref/rejected"), 1e-4 * Math.abs(refRejected));
        }
        assertEquals(refChosen, pre.metrics.get(0).get("logps/chosen"), 1e-4 * Math.abs(refChosen));
        assertEquals(refRejected, pre.metrics.get(0).get("logps/rejected"), 1e-4 * Math.abs(refRejected));
        assertTrue(pre.metrics.get(2).get("logps/chosen") - pre.metrics.get(2).get("logps/rejected")
                > refChosen - refRejected, "the policy moved toward the chosen answers");
        double tokens = chosen.stream().mapToLong(s -> java.util.stream.IntStream.range(0, s.length())
                .filter(s::inLoss).count()).average().orElseThrow();
        assertEquals(tokens, pre.metrics.get(0).get("tokens/chosen"), 1e-6, "completion tokens with the final eos");

        // no gradient reached the reference: its weights at the end are the folder's, bit for bit
        assertEquals(initial.keySet(), pre.referenceAtEnd.keySet().stream().map(k -> k.replaceFirst("^reference\\.",
                "model.")).collect(java.util.stream.Collectors.toSet()));
        for (Map.Entry<String, TensorData> e : pre.referenceAtEnd.entrySet()) {
            assertArrayEquals(initial.get(e.getKey().replaceFirst("^reference\\.", "model.")).values(),
                    e.getValue().values(), e.getKey());
        }
        // held out: the loss and the loss's metrics
        assertTrue(pre.result.metrics().containsKey("eval_logps/chosen"), pre.result.metrics().toString());

        // a reference pass per batch gives the same losses as the precomputed log-probabilities
        Run per = train("per-batch", init, config, tok, train, valid, tmp.resolve("per"));
        System.out.printf("dpo losses (reference per batch) %s%n", per.losses);
        for (int i = 0; i < 3; i++) {
            assertEquals(pre.losses.get(i), per.losses.get(i), 1e-5, "step " + (i + 1));
        }
    }

    @Test
    void rpoAddsTheChosenAnswersNegativeLogLikelihoodPerToken() throws Exception {
        Tokenizer tok = tokenizer();
        ModelConfig config = ModelConfig.builder().vocabSize(tok.vocabSize()).layers(1).dModel(16).heads(2).ffn(32)
                .context(24).initStd(0.2f).build();
        Path init = folder(tmp.resolve("sft"), config, tok, 6);
        Map<String, TensorData> initial = new SafetensorsWeightStore().load(init.resolve("model.safetensors"))
                .tensors();
        List<DpoPair> train = pairs(tok, 0, 6);
        Run rpo = train("precompute", init, config, tok, train, pairs(tok, 6, 9), tmp.resolve("rpo"),
                Map.of("rpo_alpha", 0.7));

        // step 1: log 2 plus alpha times -sum(log p of the chosen tokens) / (number of chosen tokens), in double
        List<org.align4j.api.data.TokenSequence> chosen = new ArrayList<>();
        long tokens = 0;
        for (DpoPair p : train) {
            chosen.add(p.chosen);
            tokens += java.util.stream.IntStream.range(0, p.chosen.length()).filter(p.chosen::inLoss).count();
        }
        double nll = -java.util.Arrays.stream(sums(config, initial, chosen)).sum() / tokens;
        System.out.printf("rpo: step 1 loss %.6f, nll_loss %.6f; double-precision log 2 + 0.7 * %.6f%n",
                rpo.losses.get(0), rpo.metrics.get(0).get(DpoMethod.NLL_LOSS), nll);
        assertEquals(nll, rpo.metrics.get(0).get(DpoMethod.NLL_LOSS), 1e-5 * nll);
        assertEquals(Math.log(2) + 0.7 * nll, rpo.losses.get(0), 1e-5 * (Math.log(2) + 0.7 * nll));
        assertTrue(rpo.metrics.get(2).get(DpoMethod.NLL_LOSS) < nll, "the chosen answers became more likely");
        // the held-out loss is the same sum
        assertTrue(rpo.result.metrics().containsKey("eval_" + DpoMethod.NLL_LOSS), rpo.result.metrics().toString());
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
            this.stage = Settings.of("dpo.yaml", stage);
        }

        @Override
        public String run() {
            return "test";
        }

        @Override
        public String stage() {
            return "0:dpo";
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
