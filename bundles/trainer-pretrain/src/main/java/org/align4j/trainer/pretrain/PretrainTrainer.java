package org.align4j.trainer.pretrain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Record;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * Causal language-model pre-training: next-token prediction on packed blocks of a text corpus, minimising
 * {@code -sum log Pr(x_i | x_0..x_{i-1})} (Radford et al., <i>Improving Language Understanding by Generative
 * Pre-Training</i>, 2018; the seed text's section 2.1).
 *
 * <p>Every {@code eval.every} steps it reports the validation loss and perplexity; at the end it also reports the
 * perplexity of the training split's unigram model on the same validation blocks, for comparison. Checkpoints hold
 * the model, the optimizer state and the step (the data order is a function of seed and step), are written
 * atomically, and a new run in the same working directory resumes from the newest one.
 *
 * <pre>
 * stages:
 *   - trainer: pretrain
 *     loss: causal-lm
 *     optimizer: { name: adamw, lr: 1.0e-3, weight_decay: 0.1, warmup: 50, schedule: cosine, clip_norm: 1.0 }
 *     steps: 600
 *     batch: 16
 *     eval: { every: 100, batches: 8 }
 *     checkpoint: { every: 100, keep: 3 }
 *     sample: { count: 3, max_tokens: 40, temperature: 0.8 }
 * </pre>
 *
 * The loss, optimizer, schedule and attention kernel are bound by Declarative Services from the target filters the
 * pipeline writes into this component's factory configuration. They are dynamic references read once, when the
 * graph is built: a plugin that goes away after that does not disturb the running stage.
 */
@Component(configurationPid = PretrainTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "pretrain")
public final class PretrainTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.trainer.pretrain";

    private final TensorFlowRuntime runtime;
    private final TransformerFactory models;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final TextDatasets datasets;

    @Reference(name = LOSS, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile LanguageModelLoss loss;

    @Reference(name = OPTIMIZER, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Optimizer optimizer;

    @Reference(name = SCHEDULE, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile LearningRateSchedule schedule;

    @Reference(name = ATTENTION, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AttentionKernel attention;

    /** Why this component was deactivated while a stage may run; null while it is active. */
    private volatile String deactivated;
    /** Held by the thread running a stage: deactivation waits for it to checkpoint and return. */
    private final java.util.concurrent.locks.ReentrantLock running = new java.util.concurrent.locks.ReentrantLock();

    @Activate
    public PretrainTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
            @Reference(name = "models") TransformerFactory models,
            @Reference(name = "checkpoints") CheckpointStore checkpoints,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "datasets") TextDatasets datasets) {
        this.runtime = runtime;
        this.models = models;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.datasets = datasets;
    }

    /** For tests and benchmarks outside OSGi: the plugins given directly. */
    PretrainTrainer(TensorFlowRuntime runtime, TransformerFactory models, CheckpointStore checkpoints,
            WeightStore weights, TextDatasets datasets, LanguageModelLoss loss, Optimizer optimizer,
            LearningRateSchedule schedule, AttentionKernel attention) {
        this(runtime, models, checkpoints, weights, datasets);
        this.loss = loss;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.attention = attention;
    }

    /**
     * A running stage checkpoints and stops at its next step; deactivation waits (up to a minute) for that, so the
     * checkpoint is whole before the bundles it needs stop too (at shutdown they stop right after this one).
     */
    @Deactivate
    void deactivate(BundleContext context) throws InterruptedException {
        Bundle framework = context.getBundle(0);
        deactivated = framework.getState() == Bundle.STOPPING ? "align4j is shutting down"
                : "the trainer component was deactivated (its configuration was removed or a service it needs left)";
        if (running.tryLock(60, java.util.concurrent.TimeUnit.SECONDS)) {
            running.unlock();
        }
    }

    @Override
    public TrainingResult train(TrainingContext ctx) throws Exception {
        running.lock();
        try {
            return trainLocked(ctx);
        } finally {
            running.unlock();
        }
    }

    private TrainingResult trainLocked(TrainingContext ctx) throws Exception {
        PretrainSettings cfg = new PretrainSettings(ctx.settings());
        Tokenizer tokenizer = ctx.tokenizer();
        ModelConfig modelConfig = ModelConfig.from(ctx.model(), tokenizer.vocabSize());
        if (modelConfig.vocabSize() < tokenizer.vocabSize()) {
            throw ctx.model().error("vocab_size", "is " + modelConfig.vocabSize() + " but the tokenizer has "
                    + tokenizer.vocabSize() + " tokens");
        }
        // Each plugin is read once, here: the graph is built from these and never from the fields again.
        LanguageModelLoss lossFn = require(loss, LOSS, ctx.settings().getString("loss", "causal-lm"));
        Optimizer opt = require(optimizer, OPTIMIZER, cfg.optimizer.getString("name"));
        LearningRateSchedule sched = require(schedule, SCHEDULE, cfg.scheduleName);
        AttentionKernel kernel = require(attention, ATTENTION, modelConfig.attention());
        sched.validate(cfg.optimizer);
        opt.validate(cfg.optimizer);

        String field = ctx.data().getString("field", "text");
        int context = modelConfig.context();
        int[][] trainBlocks = pack(ctx.train(), tokenizer, field, context);
        int[][] validBlocks = pack(ctx.validation(), tokenizer, field, context);
        if (trainBlocks.length == 0) {
            throw ctx.settings().error(null, "the training split has fewer than " + (context + 1)
                    + " tokens: add data or lower model.context");
        }
        BatchSource batches = new BatchSource(trainBlocks, cfg.batch, ctx.seed());
        double unigram = UnigramBaseline.perplexity(trainBlocks, validBlocks, modelConfig.vocabSize());
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE)
                .message(String.format("pretrain: %s, %,d parameters; %,d training blocks and %,d validation blocks"
                        + " of %d tokens; %s", modelConfig, modelConfig.parameterCount(), trainBlocks.length,
                        validBlocks.length, context, runtime))
                .build());

        Path dir = ctx.workDir();
        try (Graph g = new Graph()) {
            Ops tf = runtime.ops(g);
            LmGraph graph = new LmGraph(tf, modelConfig, models, kernel, lossFn, opt, cfg.optimizer);
            try (Session s = runtime.openSession(g)) {
                long start = restoreOrInitialize(ctx, graph, s, dir);
                return loop(ctx, cfg, graph, s, batches, validBlocks, sched, start, unigram, modelConfig, tokenizer,
                        dir);
            }
        }
    }

    private long restoreOrInitialize(TrainingContext ctx, LmGraph graph, Session s, Path dir) throws Exception {
        graph.model.initialize(s, ctx.seed());
        Optional<Checkpoint> last = checkpoints.latest(dir);
        if (last.isEmpty()) {
            return 0;
        }
        Checkpoint c = last.get();
        graph.checkpointed.assign(s, c.tensors(), String.valueOf(c.location()));
        String seed = c.state().get("seed");
        if (seed != null && Long.parseLong(seed) != ctx.seed()) {
            throw new IllegalStateException(c.location() + ": was written with seed " + seed + ", this run has seed "
                    + ctx.seed() + "; resume with the same seed or use a new workdir");
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).step(c.step())
                .message("resuming from " + c.location() + " at step " + c.step()).build());
        return c.step();
    }

    private TrainingResult loop(TrainingContext ctx, PretrainSettings cfg, LmGraph graph, Session s,
            BatchSource batches, int[][] validBlocks, LearningRateSchedule sched, long start, double unigram,
            ModelConfig modelConfig, Tokenizer tokenizer, Path dir) throws Exception {
        long tokensPerStep = (long) cfg.batch * modelConfig.context();
        ctx.publish(ctx.event(TrainingEvent.Kind.STAGE_STARTED).step(start).totalSteps(cfg.steps).build());
        Map<String, Double> last = new LinkedHashMap<>();
        long windowStart = System.nanoTime();
        long windowSteps = 0;
        double lossSum = 0;
        for (long step = start; step < cfg.steps; step++) {
            if (ctx.stopRequested() || deactivated != null) {
                Path at = save(ctx, graph, s, step, modelConfig, cfg.checkpointKeep);
                String why = deactivated != null ? deactivated : ctx.stopReason();
                ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).step(step)
                        .message("stopped at step " + step + " (" + why + "); checkpoint " + at
                                + "; run the same pipeline again to resume")
                        .build());
                return new TrainingResult(TrainingResult.Status.STOPPED, step, last, List.of(), at);
            }
            float lr = (float) sched.rate(step, cfg.steps, cfg.optimizer);
            float[] out = graph.train(s, batches.batch(step), lr);
            if (!Float.isFinite(out[0])) {
                throw new IllegalStateException("loss is " + out[0] + " at step " + (step + 1)
                        + ": lower optimizer.lr or set optimizer.clip_norm");
            }
            windowSteps++;
            lossSum += out[0];
            long done = step + 1;
            if (done % cfg.logEvery == 0 || done == cfg.steps) {
                double secs = (System.nanoTime() - windowStart) / 1e9;
                last.put(MetricNames.LOSS, lossSum / windowSteps);
                ctx.publish(ctx.event(TrainingEvent.Kind.STEP).step(done).totalSteps(cfg.steps)
                        .metric(MetricNames.LOSS, out[0])
                        .metric(MetricNames.PERPLEXITY, Math.exp(out[0]))
                        .metric(MetricNames.LEARNING_RATE, lr)
                        .metric(MetricNames.GRAD_NORM, out[1])
                        .metric(MetricNames.EPOCH, batches.epoch(done))
                        .metric(MetricNames.TOKENS_PER_SECOND, windowSteps * tokensPerStep / Math.max(secs, 1e-9))
                        .build());
                windowStart = System.nanoTime();
                windowSteps = 0;
                lossSum = 0;
            }
            if (cfg.evalEvery > 0 && done % cfg.evalEvery == 0 && done < cfg.steps) {
                last.putAll(evaluate(ctx, graph, s, validBlocks, cfg, done, Double.NaN));
            }
            if (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery == 0 && done < cfg.steps) {
                save(ctx, graph, s, done, modelConfig, cfg.checkpointKeep);
            }
        }
        last.putAll(evaluate(ctx, graph, s, validBlocks, cfg, cfg.steps, unigram));
        save(ctx, graph, s, cfg.steps, modelConfig, cfg.checkpointKeep);
        Path output = writeFinal(graph, s, modelConfig, tokenizer, dir);
        List<String> samples = sample(ctx, cfg, graph, s, modelConfig, tokenizer);
        ctx.publish(ctx.event(TrainingEvent.Kind.STAGE_FINISHED).step(cfg.steps).totalSteps(cfg.steps).metrics(last)
                .message(output.toString()).build());
        return new TrainingResult(TrainingResult.Status.COMPLETED, cfg.steps, last, samples, output);
    }

    private Map<String, Double> evaluate(TrainingContext ctx, LmGraph graph, Session s, int[][] valid,
            PretrainSettings cfg, long step, double unigram) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (valid.length == 0) {
            return m;
        }
        int batches = Math.min(cfg.evalBatches, (valid.length + cfg.batch - 1) / cfg.batch);
        if (!Double.isNaN(unigram)) {
            batches = (valid.length + cfg.batch - 1) / cfg.batch; // the final evaluation sees every block
        }
        double sum = 0;
        long rows = 0;
        for (int b = 0; b < batches; b++) {
            int from = b * cfg.batch;
            int to = Math.min(valid.length, from + cfg.batch);
            int[][] chunk = java.util.Arrays.copyOfRange(valid, from, to);
            sum += (double) graph.evaluate(s, chunk) * chunk.length; // every row has the same token count
            rows += chunk.length;
        }
        double evalLoss = sum / rows;
        m.put(MetricNames.EVAL_LOSS, evalLoss);
        m.put(MetricNames.EVAL_PERPLEXITY, Math.exp(evalLoss));
        if (!Double.isNaN(unigram)) {
            m.put(MetricNames.EVAL_UNIGRAM_PERPLEXITY, unigram);
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.EVALUATION).step(step).totalSteps(cfg.steps).metrics(m).build());
        return m;
    }

    private Path save(TrainingContext ctx, LmGraph graph, Session s, long step, ModelConfig config, int keep)
            throws Exception {
        Map<String, String> state = new HashMap<>();
        state.put("step", Long.toString(step));
        state.put("seed", Long.toString(ctx.seed()));
        state.put("data_position", Long.toString(step)); // the batch of step k is a function of (seed, k)
        state.put("trainer", "pretrain");
        Map<String, TensorData> tensors = graph.checkpointed.read(s);
        Path at = checkpoints.save(ctx.workDir(), new Checkpoint(step, tensors, state, null), config, keep);
        ctx.publish(ctx.event(TrainingEvent.Kind.CHECKPOINT).step(step).message(at.toString()).build());
        return at;
    }

    private Path writeFinal(LmGraph graph, Session s, ModelConfig config, Tokenizer tokenizer, Path dir)
            throws Exception {
        Path out = dir.resolve("model");
        Files.createDirectories(out);
        weights.save(out.resolve("model.safetensors"), graph.model.read(s), Map.of("format", "align4j"));
        weights.saveConfig(out.resolve("config.json"), config);
        tokenizer.save(out.resolve("tokenizer.json"));
        return out;
    }

    private List<String> sample(TrainingContext ctx, PretrainSettings cfg, LmGraph graph, Session s,
            ModelConfig config, Tokenizer tokenizer) {
        List<String> out = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(ctx.seed() ^ 0x5A4D_504CL);
        Sampler sampler = new Sampler(graph, s, config.context(), tokenizer.eosId());
        for (int i = 0; i < cfg.sampleCount; i++) {
            String prompt = cfg.samplePrompts.isEmpty() ? "" : cfg.samplePrompts.get(i % cfg.samplePrompts.size());
            double temperature = i == 0 ? 0.0 : cfg.sampleTemperature; // the first one greedy
            int[] ids = sampler.sample(tokenizer.encode(prompt), cfg.sampleMaxTokens, temperature, random);
            String text = tokenizer.decode(ids);
            out.add(text);
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE)
                    .message(String.format("sample %d (%s): %s", i + 1,
                            temperature == 0 ? "greedy" : "temperature " + temperature, text.replace("\n", "\\n")))
                    .build());
        }
        return out;
    }

    private int[][] pack(List<Record> records, Tokenizer tokenizer, String field, int context) {
        List<int[]> docs = new ArrayList<>(records.size());
        for (Record r : records) {
            docs.add(tokenizer.encode(r.text(field)));
        }
        return datasets.pack(docs, context, tokenizer.eosId());
    }

    private <T> T require(T service, String reference, String name) {
        if (service == null) {
            throw new IllegalStateException("pretrain: no " + reference + " service named \"" + name
                    + "\" is bound (its bundle stopped or is not installed); run `align4j:plugins` to list them");
        }
        return service;
    }
}
