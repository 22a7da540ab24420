package org.align4j.best.of.n;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Example;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.generate.Generator;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.WeightStore;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.Scored;
import org.align4j.api.task.Task;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.training.Bound;
import org.align4j.training.Json;
import org.align4j.training.StageModels;
import org.align4j.training.StopTokens;
import org.align4j.training.TrainerGuard;
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
 * Best-of-N, the seed text's inference-time alignment, as a pipeline stage ({@code trainer: best-of-n}): the policy
 * samples N completions of each prompt (the distinct prompts of the stage's prompt-completion examples or preference
 * pairs, e.g. the held-out questions of a feedback stage), a reward model selected by name scores them, and the best
 * one is kept.
 * The kept completions are written as a prompt-completion dataset, {@code <stage>/best-of-n/best.jsonl}
 * (rejection sampling), so {@code SFT -> best-of-N -> SFT} runs as one pipeline.
 *
 * <p>The reward model is leased by name ({@link RewardModels}): each group of prompts is one scoring call, so a
 * reward model installed or removed while the stage runs is picked up at the next group, never inside one, and every
 * group's progress row names the version that scored it. With a {@code task}, the stage reports how often the kept
 * answer is right ({@code best_of_n_exact_match}), against the first sample alone ({@code single_exact_match}, a
 * plain sample at the same temperature) and against the verifier's ceiling ({@code oracle_exact_match}: some sample
 * is right).
 */
@Component(configurationPid = BestOfNStage.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "best-of-n")
public final class BestOfNStage implements Trainer {
    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.best.of.n";
    /** Reference name (and stage key) of the task whose verifier judges answers. */
    public static final String TASK = "task";
    /** Prompts sampled and scored together: one reward-model call. */
    static final int GROUP = 16;

    private final Generator generator;
    private final WeightStore weights;
    private final RewardModels rewards;

    @Reference(name = ATTENTION, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AttentionKernel attention;

    @Reference(name = TASK, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Task task;

    private final TrainerGuard guard = new TrainerGuard();

    @Activate
    public BestOfNStage(@Reference(name = "generator") Generator generator,
            @Reference(name = "weights") WeightStore weights, @Reference(name = "rewards") RewardModels rewards) {
        this.generator = generator;
        this.weights = weights;
        this.rewards = rewards;
    }

    @Deactivate
    void deactivate(BundleContext context) throws InterruptedException {
        guard.deactivate(context);
    }

    @Override
    public TrainingResult train(TrainingContext ctx) throws Exception {
        return guard.run(() -> trainLocked(ctx));
    }

    private TrainingResult trainLocked(TrainingContext ctx) throws Exception {
        BestOfNSettings cfg = new BestOfNSettings(ctx.settings());
        Path init = ctx.init().orElseThrow(() -> ctx.settings().error("init", "names no model folder"));
        ModelConfig config = StageModels.policyConfig(ctx, weights);
        AttentionKernel kernel = Bound.require("best-of-n", attention, ATTENTION, config.attention());
        Task judge = cfg.task != null ? Bound.require("best-of-n", task, TASK, cfg.task) : null;
        Tokenizer tokenizer = ctx.tokenizer();
        RewardModels.Lease lease = lease(ctx, cfg);

        List<String> prompts = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Example e : ctx.trainExamples()) {
            org.align4j.api.data.Content prompt = e instanceof PromptCompletionExample
                    ? ((PromptCompletionExample) e).prompt()
                    : e instanceof org.align4j.api.data.PairwiseExample ? ((org.align4j.api.data.PairwiseExample) e)
                            .prompt() : null;
            if (prompt == null || prompt.isConversational()) {
                throw new org.align4j.api.data.DataException(e.source(), e.line(), "best-of-n reads the text prompts"
                        + " of prompt-completion examples or preference pairs, not " + e.format().trlName()
                        + (prompt == null ? "" : " conversations"));
            }
            String p = prompt.text();
            if (!seen.add(p)) {
                continue; // a prompt of several pairs is answered once
            }
            int[] encoded = tokenizer.encode(p);
            int[] withEos = new int[encoded.length + 1];
            withEos[0] = tokenizer.eosId();
            System.arraycopy(encoded, 0, withEos, 1, encoded.length);
            if (withEos.length < config.context()) {
                prompts.add(p);
                ids.add(withEos);
            }
        }
        if (prompts.isEmpty()) {
            throw ctx.settings().error("data", "best-of-n needs prompts that fit the model's context: give the stage"
                    + " prompt-completion examples, e.g. data: { generate: { name: arithmetic, format:"
                    + " prompt-completion, count: 200 } }");
        }
        int[] stopIds = StopTokens.of(tokenizer);
        message(ctx, String.format(Locale.ROOT, "best-of-n: %d completions of each of %d prompts from %s"
                + " (temperature %s%s, up to %d tokens), the best by reward model %s%s%s", cfg.samples,
                prompts.size(), init, cfg.temperature, (cfg.topK > 0 ? " top_k " + cfg.topK : "")
                        + (cfg.topP < 1 ? " top_p " + cfg.topP : ""), cfg.maxTokens, cfg.reward,
                cfg.version.map(v -> " " + v + " (pinned)").orElse(" (newest version at each group)"),
                judge == null ? "" : "; answers judged by task " + cfg.task));

        Tally tally = new Tally();
        List<String> best = new ArrayList<>();
        List<String> samples = new ArrayList<>();
        try (GenerationSession session = generator.openFolder(init, kernel)) {
            session.warnings().forEach(w -> message(ctx, "best-of-n: " + w));
            for (int from = 0; from < prompts.size(); from += GROUP) {
                String why = guard.deactivated() != null ? guard.deactivated()
                        : ctx.stopRequested() ? ctx.stopReason() : null;
                if (why != null) {
                    message(ctx, "best-of-n: stopped after " + from + " of " + prompts.size() + " prompts (" + why
                            + "); best.jsonl was not written: a rerun samples them all again");
                    return new TrainingResult(TrainingResult.Status.STOPPED, from, tally.metrics(), samples, null);
                }
                int to = Math.min(prompts.size(), from + GROUP);
                GenerationSettings gs = GenerationSettings.builder().samples(cfg.samples).temperature(cfg.temperature)
                        .topK(cfg.topK).topP(cfg.topP).maxNewTokens(cfg.maxTokens).stopTokens(stopIds)
                        .seed(ctx.seed() * 1_000_003L + from).build();
                List<List<Completion>> out = session.generate(ids.subList(from, to), gs);
                List<PromptCompletion> batch = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    for (Completion c : out.get(i - from)) {
                        batch.add(new PromptCompletion(prompts.get(i), tokenizer.decode(StopTokens.strip(c.tokens(), stopIds))));
                    }
                }
                Scored scored = lease.score(batch); // one call per group: a swap lands between groups
                float[] scores = scored.scores().scores();
                for (int i = from; i < to; i++) {
                    int first = (i - from) * cfg.samples;
                    int pick = first + Selection.best(scores, first, cfg.samples);
                    String prompt = prompts.get(i);
                    best.add(batch.get(pick).completion());
                    if (judge != null) {
                        boolean any = false;
                        for (int k = first; k < first + cfg.samples; k++) {
                            any |= judge.verify(prompt, batch.get(k).completion()).correct();
                        }
                        tally.add(judge.verify(prompt, batch.get(pick).completion()).correct(),
                                judge.verify(prompt, batch.get(first).completion()).correct(), any, scores[pick]);
                    } else {
                        tally.add(scores[pick]);
                    }
                    if (samples.size() < 3) {
                        samples.add(prompt + batch.get(pick).completion());
                    }
                }
                ctx.publish(ctx.event(TrainingEvent.Kind.STEP).step(to).totalSteps(prompts.size())
                        .metrics(tally.metrics()).message("scored by " + scored.model().name() + " "
                                + scored.model().version() + " [" + scored.model().bundle() + "]").build());
            }
        }
        Path folder = ctx.workDir().resolve("best-of-n");
        write(folder, prompts, best);
        Map<String, Double> metrics = tally.metrics();
        message(ctx, String.format(Locale.ROOT, "best-of-n: %d prompts; wrote the best completions to %s%s", prompts
                .size(), folder.resolve("best.jsonl"), judge == null ? "" : String.format(Locale.ROOT, "; right:"
                        + " best of %d %.1f%%, a single sample %.1f%%, some sample (the verifier's ceiling) %.1f%%",
                        cfg.samples, 100 * metrics.get("best_of_n_exact_match"),
                        100 * metrics.get("single_exact_match"), 100 * metrics.get("oracle_exact_match"))));
        return new TrainingResult(TrainingResult.Status.COMPLETED, prompts.size(), metrics, samples, folder);
    }

    /** The lease, once the reward model is registered (waiting up to {@code wait} seconds for it). */
    private RewardModels.Lease lease(TrainingContext ctx, BestOfNSettings cfg) throws Exception {
        try {
            return rewards.awaitLease(cfg.reward, cfg.version, java.time.Duration.ofSeconds(cfg.waitSeconds));
        } catch (RewardModelException none) {
            throw ctx.settings().error("reward_model", "no reward model \"" + cfg.reward + "\"" + cfg.version.map(v
                    -> " version " + v).orElse("") + " was registered within " + cfg.waitSeconds + " s"
                    + " (registered: " + rewards.models(null) + "); drop its bundle into deploy/ or add a"
                    + " package-reward stage with deploy: true before this one");
        }
    }

    /** {@code best.jsonl}: one prompt-completion example per prompt, written whole ({@link Json#write}). */
    static void write(Path folder, List<String> prompts, List<String> best) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < prompts.size(); i++) {
            b.append("{\"prompt\": ").append(Json.string(prompts.get(i))).append(", \"completion\": ")
                    .append(Json.string(best.get(i))).append("}\n");
        }
        Json.write(folder.resolve("best.jsonl"), b);
    }

    private static void message(TrainingContext ctx, String text) {
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(text).build());
    }

    /** The stage's running figures. */
    static final class Tally {
        int prompts;
        int bestRight;
        int singleRight;
        int anyRight;
        double rewardSum;
        boolean judged;

        void add(boolean best, boolean single, boolean any, double reward) {
            judged = true;
            bestRight += best ? 1 : 0;
            singleRight += single ? 1 : 0;
            anyRight += any ? 1 : 0;
            add(reward);
        }

        void add(double reward) {
            prompts++;
            rewardSum += reward;
        }

        Map<String, Double> metrics() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("best_of_n_reward", prompts == 0 ? 0.0 : rewardSum / prompts);
            if (judged) {
                m.put("best_of_n_exact_match", prompts == 0 ? 0.0 : (double) bestRight / prompts);
                m.put("single_exact_match", prompts == 0 ? 0.0 : (double) singleRight / prompts);
                m.put("oracle_exact_match", prompts == 0 ? 0.0 : (double) anyRight / prompts);
            }
            return m;
        }
    }
}
