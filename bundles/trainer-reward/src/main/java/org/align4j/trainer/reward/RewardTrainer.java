package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.DataException;
import org.align4j.api.data.Example;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.ListwiseLoss;
import org.align4j.api.loss.PairwiseLoss;
import org.align4j.api.loss.PointwiseLoss;
import org.align4j.api.loss.ProcessLoss;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.training.Bound;
import org.align4j.training.ModelSpec;
import org.align4j.training.StageModels;
import org.align4j.training.TrainerGuard;
import org.align4j.training.TrainingLoop;
import org.align4j.training.TrainingMethod;
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
 * Reward models from human feedback (the seed text's section 4.3): a model, started from a pre-trained or SFT model
 * ({@code init:}), learns to score completions from one of four kinds of supervision, chosen by the loss the stage
 * names; its family decides the data the stage reads:
 * <ul>
 * <li>pairwise (Bradley-Terry): {@code {"prompt","chosen","rejected"[,"margin"]}};</li>
 * <li>listwise (accumulated pairwise, Plackett-Luce, ListNet): {@code {"prompt","completions","ranking"}};</li>
 * <li>pointwise (regression on ratings): {@code {"prompt","completion","score"}};</li>
 * <li>process (step labels: correct / neutral / incorrect): {@code {"prompt","completions","labels"}}.</li>
 * </ul>
 *
 * <pre>
 *   - trainer: reward
 *     init: stage-1                      # the SFT model
 *     data: { from: stage-2, file: pairwise.jsonl }
 *     loss: bradley-terry                # or plackett-luce, mse, step-cross-entropy, ...
 *     optimizer: { name: adamw, lr: 3.0e-4, schedule: cosine }
 *     steps: 400
 *     batch: 16
 *     eval: { every: 100, at_start: true }
 * </pre>
 *
 * The pipeline wires {@code loss:} to the reference of the loss's family; the other three stay unbound.
 */
@Component(configurationPid = RewardTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "reward")
public final class RewardTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.trainer.reward";

    private final TensorFlowRuntime runtime;
    private final TransformerFactory models;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final Collator collator;

    @Reference(name = "pairwise", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PairwiseLoss pairwise;

    @Reference(name = "listwise", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ListwiseLoss listwise;

    @Reference(name = "pointwise", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PointwiseLoss pointwise;

    @Reference(name = "process", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ProcessLoss process;

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
    public RewardTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
            @Reference(name = "models") TransformerFactory models,
            @Reference(name = "checkpoints") CheckpointStore checkpoints,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "collator") Collator collator) {
        this.runtime = runtime;
        this.models = models;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.collator = collator;
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
        RewardSettings cfg = new RewardSettings(ctx.settings());
        Settings lossSection = ctx.settings().section("loss");
        String lossName = lossSection.getString("name", null);
        Settings lossSettings = lossSection.without("name");
        // each plugin is read once, here; exactly one loss family is bound (the pipeline leaves the others unbound)
        PairwiseLoss pw = pairwise;
        ListwiseLoss lw = listwise;
        PointwiseLoss pt = pointwise;
        ProcessLoss pr = process;
        int bound = (pw != null ? 1 : 0) + (lw != null ? 1 : 0) + (pt != null ? 1 : 0) + (pr != null ? 1 : 0);
        if (bound != 1) {
            throw new IllegalStateException("reward: " + (bound == 0 ? "no loss service named \"" + lossName
                    + "\" is bound (its bundle stopped or is not installed); run `align4j:plugins` to list them"
                    : bound + " loss families are bound; name one loss"));
        }
        Optimizer opt = Bound.require("reward", optimizer, OPTIMIZER, cfg.loop.optimizer.getString("name"));
        LearningRateSchedule sched = Bound.require("reward", schedule, SCHEDULE, cfg.loop.scheduleName);
        Optional<Path> init = ctx.init(ModelSpec.REWARD).or(ctx::init);
        ModelConfig config = StageModels.config(ctx, weights, init);
        AttentionKernel kernel = Bound.require("reward", attention, ATTENTION, config.attention());
        sched.validate(cfg.loop.optimizer);
        opt.validate(cfg.loop.optimizer);

        // how the saved model scores is this stage's choice, whatever the init folder's model did
        ModelConfig reference = null;
        if (cfg.likelihood == RewardSettings.Likelihood.REFERENCE) {
            if (init.isEmpty()) {
                throw ctx.settings().error("likelihood", "reference scores with a frozen copy of the model the reward"
                        + " model starts from, and this stage has no init: (name the SFT model, e.g. init: stage-1)");
            }
            reference = config.toBuilder().classes(0).scoreLikelihood(false).likelihoodReference(false).build();
        }
        config = config.toBuilder().scoreLikelihood(cfg.likelihood != RewardSettings.Likelihood.NONE)
                .likelihoodReference(reference != null).build();
        Tokenizer tokenizer = ctx.tokenizer();
        int separator = -1;
        if (cfg.stepCredit) {
            if (pr != null) {
                throw ctx.settings().error("score", "step-credit scores an outcome model by its steps; a process"
                        + " model (loss " + lossName + ") scores its steps already");
            }
            separator = ProcessMethod.Steps.separator(tokenizer, reference != null);
            config = config.toBuilder().classes(1).stepCredit(true).build(); // one correctness logit per step
        }
        Sequences seqs = new Sequences(tokenizer, cfg.chat, separator);
        int context = config.context();
        int[] dropped = {0};
        Path from = init.orElse(null);
        TrainingMethod method;
        String family;
        int examples;
        if (pw != null) {
            family = "pairwise";
            pw.validate(lossSettings);
            List<PairwiseMethod.Pair> train = pairs(ctx.trainExamples(), seqs, context, dropped);
            examples = train.size();
            method = new PairwiseMethod(cfg, config, reference, kernel, collator, tokenizer.padId(), from, ctx.seed(), pw,
                    lossSettings, train, pairs(ctx.validationExamples(), seqs, context, dropped));
        } else if (lw != null) {
            family = "listwise";
            lw.validate(lossSettings);
            List<ListwiseMethod.Ranked> train = lists(ctx.trainExamples(), seqs, context, dropped);
            examples = train.size();
            method = new ListwiseMethod(cfg, config, reference, kernel, collator, tokenizer.padId(), from, ctx.seed(), lw,
                    lossSettings, train, lists(ctx.validationExamples(), seqs, context, dropped), tokenizer.eosId());
        } else if (pt != null) {
            family = "pointwise";
            pt.validate(lossSettings);
            List<PointwiseMethod.Rated> train = rated(ctx.trainExamples(), seqs, context, dropped);
            examples = train.size();
            method = new PointwiseMethod(cfg, config, reference, kernel, collator, tokenizer.padId(), from, ctx.seed(), pt,
                    lossSettings, train, rated(ctx.validationExamples(), seqs, context, dropped));
        } else {
            family = "process";
            pr.validate(lossSettings);
            int classes = pr.classes(lossSettings);
            ModelConfig withHead = config.toBuilder().classes(classes).build();
            ProcessMethod.Steps steps = new ProcessMethod.Steps(tokenizer, context, reference != null);
            List<ProcessMethod.Labelled> train = steps.all(ctx.trainExamples(), dropped);
            examples = train.size();
            config = withHead;
            method = new ProcessMethod(cfg, withHead, reference, kernel, collator, tokenizer.padId(), from, ctx.seed(), pr,
                    lossSettings, train, steps.all(ctx.validationExamples(), dropped));
        }
        if (method instanceof RewardMethod) {
            ((RewardMethod) method).stepSeparator(separator);
        }
        if (examples == 0) {
            throw ctx.settings().error("data", "a " + family + " reward model needs " + family + " examples: give the"
                    + " stage a data: section in that format (e.g. data: { from: stage-2, file: " + family
                    + ".jsonl })");
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(String.format(
                "reward: %s loss %s; %s, %,d parameters%s; %,d training examples; %s", family, lossName, config,
                config.parameterCount(), from == null ? " from the seed (no init: given)" : " from " + from,
                examples, runtime)).build());
        if (dropped[0] > 0) {
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("reward: " + dropped[0] + " examples left out:"
                    + " their completions do not fit model.context = " + context + " tokens").build());
        }
        return new TrainingLoop(runtime, models, checkpoints, weights, guard).run(ctx, cfg.loop, method, opt, sched);
    }

    /** {@code seq} cut to the context from the left (prompt tokens only), or null when its completion does not fit. */
    static TokenSequence fit(TokenSequence seq, int context) {
        int cut = seq.length() - context;
        if (cut <= 0) {
            return seq;
        }
        for (int i = 0; i < cut; i++) {
            if (seq.inLoss(i)) {
                return null;
            }
        }
        return new TokenSequence(java.util.Arrays.copyOfRange(seq.ids(), cut, seq.length()),
                java.util.Arrays.copyOfRange(seq.lossMask(), cut, seq.length()));
    }

    private static List<PairwiseMethod.Pair> pairs(List<Example> examples, Sequences seqs, int context,
            int[] dropped) {
        List<PairwiseMethod.Pair> out = new ArrayList<>();
        for (Example e : examples) {
            PairwiseExample p = as(e, PairwiseExample.class, "pairwise");
            TokenSequence c = fit(sequence(e, seqs, p.prompt(), p.chosen()), context);
            TokenSequence r = fit(sequence(e, seqs, p.prompt(), p.rejected()), context);
            if (c == null || r == null) {
                dropped[0]++;
                continue;
            }
            out.add(new PairwiseMethod.Pair(c, r, (float) p.margin().orElse(0)));
        }
        return out;
    }

    private static List<ListwiseMethod.Ranked> lists(List<Example> examples, Sequences seqs, int context,
            int[] dropped) {
        List<ListwiseMethod.Ranked> out = new ArrayList<>();
        for (Example e : examples) {
            ListwiseExample l = as(e, ListwiseExample.class, "listwise");
            List<TokenSequence> completions = new ArrayList<>();
            for (org.align4j.api.data.Content c : l.completions()) {
                completions.add(fit(sequence(e, seqs, l.prompt(), c), context));
            }
            if (completions.contains(null)) {
                dropped[0]++;
                continue;
            }
            out.add(new ListwiseMethod.Ranked(completions, l.ranking()));
        }
        return out;
    }

    private static List<PointwiseMethod.Rated> rated(List<Example> examples, Sequences seqs, int context,
            int[] dropped) {
        List<PointwiseMethod.Rated> out = new ArrayList<>();
        for (Example e : examples) {
            PointwiseExample p = as(e, PointwiseExample.class, "pointwise");
            TokenSequence s = fit(sequence(e, seqs, p.prompt(), p.completion()), context);
            if (s == null) {
                dropped[0]++;
                continue;
            }
            out.add(new PointwiseMethod.Rated(s, p.score()));
        }
        return out;
    }

    /** {@link Sequences#of}, failing with the example's file and line. */
    private static TokenSequence sequence(Example e, Sequences seqs, org.align4j.api.data.Content prompt,
            org.align4j.api.data.Content completion) {
        try {
            return seqs.of(prompt, completion);
        } catch (IllegalArgumentException x) {
            throw new DataException(e.source(), e.line(), x.getMessage());
        }
    }

    static <T extends Example> T as(Example e, Class<T> type, String family) {
        if (!type.isInstance(e)) {
            throw new DataException(e.source(), e.line(), "the stage's loss is a " + family + " loss, which trains on "
                    + family + " examples, not " + e.format().trlName() + " ones; name a loss of that family or"
                    + " give the stage " + family + " data");
        }
        return type.cast(e);
    }
}
