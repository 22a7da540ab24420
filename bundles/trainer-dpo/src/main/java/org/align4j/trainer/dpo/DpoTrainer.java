package org.align4j.trainer.dpo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.Example;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.task.Task;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.training.Bound;
import org.align4j.training.ExactMatch;
import org.align4j.training.ModelSpec;
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
 * Direct preference optimisation ({@link DpoMethod}): a policy started from the SFT model learns from preference
 * pairs against a frozen copy of the same model, with whichever {@link PreferenceLoss} the stage names.
 *
 * <pre>
 *   - trainer: dpo
 *     init: stage-1                 # the SFT model: the policy and (unless init: { reference: ... }) the reference
 *     data: { from: stage-2, file: pairwise.jsonl, validation_file: heldout/pairwise.jsonl }
 *     task: arithmetic              # its verifier judges the held-out answers
 *     loss: dpo                     # or { name: ipo }, { name: dpo, label_smoothing: 0.1 }, dpo-hinge,
 *                                   #   robust-dpo, { name: dpop, lambda: 50 }
 *     beta: 0.1
 *     optimizer: { name: adamw, lr: 1.0e-5, warmup: 20, schedule: cosine, clip_norm: 1.0 }
 *     steps: 200
 *     batch: 16
 *     eval: { every: 100, at_start: true }
 * </pre>
 */
@Component(configurationPid = DpoTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "dpo")
public final class DpoTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.trainer.dpo";
    /** Reference name (and stage key) of the task whose verifier judges held-out answers. */
    public static final String TASK = "task";

    private final TensorFlowRuntime runtime;
    private final TransformerFactory models;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final Collator collator;
    private final Generator generator;

    @Reference(name = LOSS, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PreferenceLoss loss;

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
    public DpoTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
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
        DpoSettings cfg = new DpoSettings(ctx.settings());
        Tokenizer tokenizer = ctx.tokenizer();
        Path init = ctx.init().orElseThrow(() -> ctx.settings().error("init", "names no model folder: dpo starts the"
                + " policy and its frozen reference from a trained model (the SFT stage), e.g. init: stage-1"));
        Path referenceInit = ctx.init(ModelSpec.REFERENCE).orElse(init);
        ModelConfig config = StageModels.policyConfig(ctx, weights);
        Settings lossSection = ctx.settings().section(LOSS);
        String lossName = lossSection.getString("name", "dpo");
        Settings lossSettings = lossSection.without("name");
        // each plugin is read once, here
        PreferenceLoss lossFn = Bound.require("dpo", loss, LOSS, lossName);
        lossFn.validate(lossSettings);
        Optimizer opt = Bound.require("dpo", optimizer, OPTIMIZER, cfg.loop.optimizer.getString("name"));
        LearningRateSchedule sched = Bound.require("dpo", schedule, SCHEDULE, cfg.loop.scheduleName);
        AttentionKernel kernel = Bound.require("dpo", attention, ATTENTION, config.attention());
        String taskName = ctx.settings().section(TASK).getString("name", null);
        Task judge = taskName != null ? Bound.require("dpo", task, TASK, taskName) : null;
        sched.validate(cfg.loop.optimizer);
        opt.validate(cfg.loop.optimizer);

        int[] left = {0};
        List<DpoPair> train = pairs(ctx.trainExamples(), tokenizer, config, cfg.firstDifferentLine, left);
        List<DpoPair> valid = pairs(ctx.validationExamples(), tokenizer, config, cfg.firstDifferentLine, left);
        int trainPairs = train.size();
        train = withoutHeldOutPrompts(train, valid);
        if (train.size() < trainPairs) {
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(String.format("dpo: %,d training pairs left"
                    + " out: their prompt is one of the held-out pairs' (held out means never trained on)",
                    trainPairs - train.size())).build());
        }
        if (train.isEmpty()) {
            throw ctx.settings().error("data", "dpo needs preference pairs (prompt, chosen, rejected): give the stage"
                    + " a data: section in that format, e.g. data: { from: stage-2, file: pairwise.jsonl }");
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(String.format(
                "dpo: loss %s, beta %s, comparing %s, reference log-probabilities %s; %s, %,d parameters from %s"
                        + " (reference from %s, frozen); %,d training and %,d held-out pairs%s; %s", lossName, cfg.beta,
                cfg.firstDifferentLine ? "the first line where chosen and rejected part" : "whole completions",
                cfg.precompute ? "precomputed once" : "per batch", config, config.parameterCount(), init,
                referenceInit, train.size(), valid.size(), judge == null ? "" : "; answers judged by task "
                        + taskName, runtime)).build());
        if (left[0] > 0) {
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("dpo: " + left[0] + " pairs left out: a"
                    + " completion of theirs does not fit model.context = " + config.context() + " tokens").build());
        }
        DpoMethod method = new DpoMethod(cfg, config, kernel, lossFn, lossSettings, collator, tokenizer.padId(),
                new ExactMatch(generator, tokenizer, judge, cfg.exactMatchMaxTokens), train, valid, ctx.seed(), init,
                referenceInit);
        return new TrainingLoop(runtime, models, checkpoints, weights, guard).run(ctx, cfg.loop, method, opt, sched);
    }

    /** The pairs whose completions (with their final {@code <eos>}) fit the context; the others are counted. */
    static List<DpoPair> pairs(List<Example> examples, Tokenizer tokenizer, ModelConfig config,
            boolean firstDifferentLine, int[] left) {
        List<DpoPair> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            DpoPair p = DpoPair.of(e, tokenizer, firstDifferentLine);
            if (completion(p.chosen) > config.context() || completion(p.rejected) > config.context()) {
                left[0]++;
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /** {@code train} without the pairs whose prompt is also a prompt of {@code valid}. */
    static List<DpoPair> withoutHeldOutPrompts(List<DpoPair> train, List<DpoPair> valid) {
        java.util.Set<String> held = new java.util.HashSet<>();
        for (DpoPair p : valid) {
            held.add(p.prompt);
        }
        List<DpoPair> out = new ArrayList<>(train.size());
        for (DpoPair p : train) {
            if (!held.contains(p.prompt)) {
                out.add(p);
            }
        }
        return out;
    }

    /** The tokens of a sequence's completion (those in the loss). */
    private static int completion(org.align4j.api.data.TokenSequence s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            n += s.inLoss(i) ? 1 : 0;
        }
        return n;
    }
}
