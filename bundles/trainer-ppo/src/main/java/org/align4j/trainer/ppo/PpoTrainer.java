package org.align4j.trainer.ppo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Example;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.PolicyLoss;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.reward.RewardModels;
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
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * RLHF with PPO ({@link PpoMethod}; Schulman et al. 2017, as Ouyang et al. 2022 apply it): a policy started from the
 * SFT model learns from a reward model's scores of its own answers, held near a frozen copy of itself by a per-token
 * KL penalty, with a value model for the advantages.
 *
 * <pre>
 *   - trainer: ppo
 *     init: stage-1                  # the SFT model: the policy, its frozen reference and (unless
 *                                    #   init: { policy: stage-1, value: stage-3 }) the value model's body
 *     data:                          # prompts (prompt-completion or pairwise examples; only the prompts are used)
 *       generate: { name: arithmetic, format: prompt-completion, distinct: true, count: 2000 }
 *       validation_fraction: 0.1     # held out: answered greedily at each evaluation
 *     task: arithmetic               # its verifier judges the held-out answers
 *     reward_model: arithmetic-rm    # leased per rollout: a new version installed while it runs scores the next
 *     loss: { name: ppo-clip, cliprange: 0.2, cliprange_value: 0.2, vf_coef: 0.1 }
 *     rollout: { prompts: 16, samples: 4, temperature: 1.0, max_tokens: 64 }
 *     epochs: 4
 *     kl: { coef: 0.05, estimator: k1 }
 *     optimizer: { name: adamw, lr: 1.0e-5, schedule: constant, clip_norm: 1.0 }
 *     steps: 400                     # optimizer steps: epochs x rollouts / batch per iteration
 *     batch: 16
 * </pre>
 *
 * <p>Re-targeting while it runs: a ConfigAdmin update of the stage's configuration that changes
 * {@code stage.reward_model} (or {@code stage.reward_model.name} / {@code .version}) takes effect at the next rollout,
 * without stopping the run ({@link #modified}).
 */
@Component(configurationPid = PpoTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "ppo")
public final class PpoTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.trainer.ppo";
    /** Reference name (and stage key) of the task whose verifier judges held-out answers. */
    public static final String TASK = "task";
    /** Configuration keys of the reward model the stage scores with (the pipeline flattens the stage into them). */
    static final String TARGET = Trainer.REWARD_MODEL;
    static final String TARGET_NAME = Trainer.REWARD_MODEL_NAME;
    static final String TARGET_VERSION = Trainer.REWARD_MODEL_VERSION;

    private final TensorFlowRuntime runtime;
    private final TransformerFactory models;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final Generator generator;
    private final RewardModels rewards;

    @Reference(name = LOSS, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PolicyLoss loss;

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
    /** The reward model a configuration update re-targeted the stage to; {@code null} until one does. */
    private volatile PpoMethod.Target retargeted;

    @Activate
    public PpoTrainer(@Reference(name = "runtime") TensorFlowRuntime runtime,
            @Reference(name = "models") TransformerFactory models,
            @Reference(name = "checkpoints") CheckpointStore checkpoints,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "generator") Generator generator,
            @Reference(name = "rewards") RewardModels rewards) {
        this.runtime = runtime;
        this.models = models;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.generator = generator;
        this.rewards = rewards;
    }

    /**
     * A configuration update while the stage runs (the console's or the shell's re-targeting): the reward model it
     * names is used from the next rollout on. Other keys of a running stage are not re-read.
     */
    @Modified
    void modified(Map<String, Object> properties) {
        Object name = properties.get(TARGET_NAME);
        if (name == null) {
            name = properties.get(TARGET);
        }
        if (name != null && !String.valueOf(name).isBlank()) {
            Object version = properties.get(TARGET_VERSION);
            retargeted = new PpoMethod.Target(String.valueOf(name).trim(), version == null || String.valueOf(version)
                    .isBlank() ? Optional.empty() : Optional.of(String.valueOf(version).trim()));
        }
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
        PpoSettings cfg = new PpoSettings(ctx.settings());
        Tokenizer tokenizer = ctx.tokenizer();
        Path init = ctx.init().orElseThrow(() -> ctx.settings().error("init", "names no model folder: ppo starts the"
                + " policy, its frozen reference and the value model from a trained model (the SFT stage), e.g."
                + " init: stage-1"));
        Path referenceInit = ctx.init(ModelSpec.REFERENCE).orElse(init);
        Path valueInit = ctx.init(ModelSpec.VALUE).orElse(init);
        ModelConfig config = StageModels.policyConfig(ctx, weights);
        ModelConfig valueConfig = StageModels.config(ctx, weights, Optional.of(valueInit)).toBuilder().classes(0)
                .scoreLikelihood(false).likelihoodReference(false).stepCredit(false).build();
        if (valueConfig.context() < config.context()) {
            throw new IllegalStateException(valueInit + ": the value model's context (" + valueConfig.context()
                    + " tokens) is shorter than the policy's (" + config.context() + "); start it from a model with"
                    + " at least the policy's context");
        }
        Settings lossSection = ctx.settings().section(LOSS);
        String lossName = lossSection.getString("name", "ppo-clip");
        Settings lossSettings = lossSection.without("name");
        PolicyLoss lossFn = Bound.require("ppo", loss, LOSS, lossName);
        lossFn.validate(lossSettings);
        Optimizer opt = Bound.require("ppo", optimizer, OPTIMIZER, cfg.loop.optimizer.getString("name"));
        LearningRateSchedule sched = Bound.require("ppo", schedule, SCHEDULE, cfg.loop.scheduleName);
        AttentionKernel kernel = Bound.require("ppo", attention, ATTENTION, config.attention());
        String taskName = ctx.settings().section(TASK).getString("name", null);
        Task judge = taskName != null ? Bound.require("ppo", task, TASK, taskName) : null;
        sched.validate(cfg.loop.optimizer);
        opt.validate(cfg.loop.optimizer);

        int[] left = {0};
        List<PpoMethod.Prompt> train = prompts(ctx.trainExamples(), tokenizer, config, left);
        List<PpoMethod.Prompt> valid = prompts(ctx.validationExamples(), tokenizer, config, left);
        Set<String> held = new HashSet<>();
        valid.forEach(p -> held.add(p.text));
        int before = train.size();
        train.removeIf(p -> held.contains(p.text));
        if (train.isEmpty()) {
            throw ctx.settings().error("data", "ppo needs prompts: give the stage a data: section of prompt-completion"
                    + " or pairwise examples (only their prompts are used), e.g. data: { generate: { name: arithmetic,"
                    + " format: prompt-completion, count: 2000 } }");
        }
        retargeted = null;
        PpoMethod.Target initial = new PpoMethod.Target(cfg.reward, cfg.rewardVersion);
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(String.format("ppo: %d iterations of %d prompts x %d"
                + " samples (temperature %s, up to %d tokens), %d epochs of %d updates of %d rollouts each; loss %s;"
                + " KL coefficient %s (%s%s); reward model %s%s; %s, %,d parameters from %s (reference from %s,"
                + " frozen; value model from %s); %,d training and %,d held-out prompts%s%s; %s", cfg.iterations(),
                cfg.prompts, cfg.samples, cfg.temperature, cfg.maxTokens, cfg.epochs, cfg.rollouts() / cfg.loop.batch,
                cfg.loop.batch, lossName, cfg.klCoef, cfg.estimator.name().toLowerCase(java.util.Locale.ROOT),
                Double.isNaN(cfg.klTarget) ? ", fixed" : ", adaptive to " + cfg.klTarget, initial,
                cfg.dense ? " with dense step rewards" : "", config, config.parameterCount(), init, referenceInit,
                valueInit, train.size(), valid.size(), before > train.size() ? " (" + (before - train.size())
                        + " training prompts left out: they are held out)" : "", judge == null ? ""
                                : "; answers judged by task " + taskName, runtime)).build());
        if (left[0] > 0) {
            ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("ppo: " + left[0] + " prompts left out: they"
                    + " leave no room to answer within model.context = " + config.context() + " tokens").build());
        }
        try (PpoMethod method = new PpoMethod(cfg, config, valueConfig, kernel, lossFn, lossSettings, generator,
                tokenizer, rewards, () -> retargeted != null ? retargeted : initial,
                () -> ctx.stopRequested() || guard.deactivated() != null,
                new ExactMatch(generator, tokenizer, judge, cfg.exactMatchMaxTokens), train, valid, ctx.seed(), init,
                referenceInit, valueInit)) {
            return new TrainingLoop(runtime, models, checkpoints, weights, guard).run(ctx, cfg.loop, method, opt,
                    sched);
        }
    }

    /**
     * The distinct prompts of {@code examples} ({@code <eos> prompt}, as SFT trains on it) that leave room for an
     * answer, in order of first appearance (a pairwise file holds a prompt once per pair; {@code rollout.samples}
     * is how often each is answered).
     */
    static List<PpoMethod.Prompt> prompts(List<Example> examples, Tokenizer tokenizer, ModelConfig config,
            int[] left) {
        List<PpoMethod.Prompt> out = new ArrayList<>(examples.size());
        Set<String> seen = new HashSet<>();
        for (Example e : examples) {
            String prompt;
            String reference = null;
            if (e instanceof PromptCompletionExample) {
                PromptCompletionExample pc = (PromptCompletionExample) e;
                prompt = text(e, pc.prompt());
                reference = pc.completion().isConversational() ? null : pc.completion().text();
            } else if (e instanceof PairwiseExample) {
                prompt = text(e, ((PairwiseExample) e).prompt());
            } else {
                throw new org.align4j.api.data.DataException(e.source(), e.line(), "ppo reads prompts from"
                        + " prompt-completion or pairwise examples, not " + e.format().trlName() + " examples");
            }
            if (!seen.add(prompt)) {
                continue;
            }
            int[] body = tokenizer.encode(prompt);
            int[] ids = new int[body.length + 1];
            ids[0] = tokenizer.eosId();
            System.arraycopy(body, 0, ids, 1, body.length);
            if (ids.length >= config.context()) {
                left[0]++;
            } else {
                out.add(new PpoMethod.Prompt(prompt, ids, reference));
            }
        }
        return out;
    }

    private static String text(Example e, org.align4j.api.data.Content c) {
        if (c == null) {
            throw new org.align4j.api.data.DataException(e.source(), e.line(), "field \"prompt\": ppo needs a prompt"
                    + " to answer; this example has none");
        }
        if (c.isConversational()) {
            throw new org.align4j.api.data.DataException(e.source(), e.line(), "field \"prompt\": ppo reads text"
                    + " prompts; conversational prompts are not supported yet");
        }
        return c.text();
    }
}
