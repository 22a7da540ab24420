package org.align4j.trainer.sft;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.Example;
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
import org.align4j.api.task.Task;
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
 * Supervised fine-tuning (SFT; the seed text's section 4.2, the second stage of the InstructGPT recipe): a
 * pre-trained model learns to write the completions of prompt-completion or conversational examples, the loss
 * counting only completion tokens. It reports the held-out validation loss and the held-out exact match: greedy
 * answers to held-out prompts, judged by the stage's task (its verifier checks every step and the final answer) or
 * by equality with the reference answer.
 *
 * <pre>
 * stages:
 *   - trainer: pretrain
 *     ...
 *   - trainer: sft
 *     init: stage-0                 # start from the pre-trained model
 *     data: { generate: { name: arithmetic, format: prompt-completion, count: 4000 }, validation_fraction: 0.1 }
 *     task: arithmetic              # a Task: its verifier judges held-out answers
 *     loss: causal-lm
 *     optimizer: { name: adamw, lr: 5.0e-4, warmup: 20, schedule: cosine, clip_norm: 1.0 }
 *     steps: 400
 *     batch: 16
 *     eval: { every: 100, at_start: true }
 *     exact_match: { samples: 200, max_tokens: 48 }
 * </pre>
 *
 * Its plugins (loss, optimizer, schedule, attention kernel, task) are bound by Declarative Services from the target
 * filters the pipeline derives from these references; each is read once, when the stage starts.
 */
@Component(configurationPid = SftTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "sft")
public final class SftTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.trainer.sft";
    /** Reference name (and stage key) of the task whose verifier judges answers. */
    public static final String TASK = "task";

    private final TensorFlowRuntime runtime;
    private final TransformerFactory models;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final Collator collator;
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

    @Reference(name = TASK, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Task task;

    private final TrainerGuard guard = new TrainerGuard();

    @Activate
    public SftTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
            @Reference(name = "models") TransformerFactory models,
            @Reference(name = "checkpoints") CheckpointStore checkpoints,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "collator") Collator collator,
            @Reference(name = "generator") Generator generator) {
        this.runtime = runtime;
        this.models = models;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.collator = collator;
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
        SftSettings cfg = new SftSettings(ctx.settings());
        Tokenizer tokenizer = ctx.tokenizer();
        Optional<Path> init = ctx.init();
        ModelConfig config = StageModels.policyConfig(ctx, weights);
        // each plugin is read once, here
        String lossName = ctx.settings().section(LOSS).getString("name", "causal-lm");
        LanguageModelLoss lossFn = Bound.require("sft", loss, LOSS, lossName);
        Optimizer opt = Bound.require("sft", optimizer, OPTIMIZER, cfg.loop.optimizer.getString("name"));
        LearningRateSchedule sched = Bound.require("sft", schedule, SCHEDULE, cfg.loop.scheduleName);
        AttentionKernel kernel = Bound.require("sft", attention, ATTENTION, config.attention());
        String taskName = ctx.settings().section(TASK).getString("name", null);
        Task judge = taskName != null ? Bound.require("sft", task, TASK, taskName) : null;
        sched.validate(cfg.loop.optimizer);
        opt.validate(cfg.loop.optimizer);

        List<SftExample> train = tokenize(ctx.trainExamples(), tokenizer, cfg);
        List<SftExample> valid = tokenize(ctx.validationExamples(), tokenizer, cfg);
        if (train.isEmpty()) {
            throw ctx.settings().error("data", "sft needs prompt-completion or conversational examples: give the"
                    + " stage a data: section (e.g. data: { train: sft.jsonl } or generate: { name: arithmetic,"
                    + " format: prompt-completion })");
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(String.format(
                "sft: %s, %,d parameters%s; %,d training and %,d held-out examples%s; %s", config,
                config.parameterCount(), init.map(p -> " from " + p).orElse(" from the seed (no init: given)"),
                train.size(), valid.size(), judge == null ? "" : "; answers judged by task "
                        + taskName, runtime)).build());
        long tooLong = train.stream().filter(e -> e.sequence.length() > config.context() + 1).count()
                + valid.stream().filter(e -> e.sequence.length() > config.context() + 1).count();
        if (tooLong > 0) {
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("sft: " + tooLong + " examples are longer than"
                    + " model.context + 1 = " + (config.context() + 1) + " tokens: their prompts are cut from the left,"
                    + " or they are left out when the cut would reach the answer; raise model.context to keep them")
                    .build());
        }
        SftMethod method = new SftMethod(cfg, config, kernel, lossFn, tokenizer, collator, generator, judge, train,
                valid, ctx.seed(), init.orElse(null));
        return new TrainingLoop(runtime, models, checkpoints, weights, guard).run(ctx, cfg.loop, method, opt, sched);
    }

    private static List<SftExample> tokenize(List<Example> examples, Tokenizer tokenizer, SftSettings cfg) {
        List<SftExample> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(SftExample.of(e, tokenizer, cfg.chat));
        }
        return out;
    }
}
