package org.align4j.trainer.pretrain;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.DataException;
import org.align4j.api.data.Example;
import org.align4j.api.data.Record;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.data.TextExample;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
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
import org.align4j.training.Bound;
import org.align4j.training.StageModels;
import org.align4j.training.TrainerGuard;
import org.align4j.training.TrainingLoop;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

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
    private final Generator generator;

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

    private final TrainerGuard guard = new TrainerGuard();

    @Activate
    public PretrainTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
            @Reference(name = "models") TransformerFactory models,
            @Reference(name = "checkpoints") CheckpointStore checkpoints,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "datasets") TextDatasets datasets,
            @Reference(name = "generator") Generator generator) {
        this.runtime = runtime;
        this.models = models;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.datasets = datasets;
        this.generator = generator;
    }

    /** A running stage checkpoints and stops at its next step; deactivation waits (up to a minute) for that. */
    @Deactivate
    void deactivate(BundleContext context) throws InterruptedException {
        guard.deactivate(context);
    }

    @Override
    public TrainingResult train(TrainingContext ctx) throws Exception {
        return guard.run(() -> trainLocked(ctx));
    }

    private TrainingResult trainLocked(TrainingContext ctx) throws Exception {
        PretrainSettings cfg = new PretrainSettings(ctx.settings());
        Tokenizer tokenizer = ctx.tokenizer();
        ModelConfig modelConfig = StageModels.policyConfig(ctx, weights);
        // Each plugin is read once, here: the graph is built from these and never from the fields again.
        String lossName = ctx.settings().section(LOSS).getString("name", "causal-lm");
        LanguageModelLoss lossFn = Bound.require("pretrain", loss, LOSS, lossName);
        Optimizer opt = Bound.require("pretrain", optimizer, OPTIMIZER, cfg.loop.optimizer.getString("name"));
        LearningRateSchedule sched = Bound.require("pretrain", schedule, SCHEDULE, cfg.scheduleName);
        AttentionKernel kernel = Bound.require("pretrain", attention, ATTENTION, modelConfig.attention());
        sched.validate(cfg.loop.optimizer);
        opt.validate(cfg.loop.optimizer);

        String field = ctx.data().getString("field", "text");
        int context = modelConfig.context();
        int[][] trainBlocks = pack(texts(ctx.train(), ctx.trainExamples(), field), tokenizer, context);
        int[][] validBlocks = pack(texts(ctx.validation(), ctx.validationExamples(), field), tokenizer, context);
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

        PretrainMethod method = new PretrainMethod(cfg, modelConfig, kernel, lossFn, tokenizer, batches, validBlocks,
                unigram, ctx.seed(), ctx.init().orElse(null), generator);
        return new TrainingLoop(runtime, models, checkpoints, weights, guard).run(ctx, cfg.loop, method, opt, sched);
    }

    /** The documents of the stage: the run's text records, or the stage's own text examples. */
    private static List<String> texts(List<Record> records, List<Example> examples, String field) {
        List<String> out = new ArrayList<>();
        for (Record r : records) {
            out.add(r.text(field));
        }
        for (Example e : examples) {
            if (!(e instanceof TextExample)) {
                throw new DataException(e.source(), e.line(), "pretrain trains on text ({\"text\": ...}), not on "
                        + e.format().trlName() + " examples; give the stage text data or use another trainer");
            }
            out.add(((TextExample) e).text());
        }
        return out;
    }

    private int[][] pack(List<String> texts, Tokenizer tokenizer, int context) {
        List<int[]> docs = new ArrayList<>(texts.size());
        for (String t : texts) {
            docs.add(tokenizer.encode(t));
        }
        return datasets.pack(docs, context, tokenizer.eosId());
    }
}
