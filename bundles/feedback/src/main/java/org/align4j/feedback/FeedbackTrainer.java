package org.align4j.feedback;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
import org.align4j.api.task.Task;
import org.align4j.api.task.Verdict;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.training.Bound;
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
 * Feedback as annotators would give it, from a verifiable task: the stage samples K completions of each prompt from
 * its policy, has the task's verifier judge every step and the final answer, and writes what a team of annotators
 * following a rubric would hand back, with their occasional mistakes: pairwise preferences, listwise rankings,
 * pointwise 1–5 ratings and per-step labels (the seed text's section 3 formats; process supervision as in Lightman et
 * al., "Let's Verify Step by Step", 2023; K-wise comparisons as in Ouyang et al., InstructGPT, 2022). It trains
 * nothing: later stages train reward models or preference methods on its files.
 *
 * <pre>
 * stages:
 *   - trainer: sft
 *     ...
 *   - trainer: feedback
 *     init: stage-1                # the SFT policy writes the completions
 *     task: arithmetic             # its verifier judges them
 *     data: { generate: { name: arithmetic, format: prompt-completion, count: 500 } }
 *     samples: 4
 *     temperature: 1.0
 *     max_tokens: 64
 *     noise: { pairs: 0.1, ranks: 0.1, ratings: 0.1, steps: 0.1 }
 *     heldout: 0.1                 # a tenth of the questions, noise-free, into feedback/heldout/
 *   - trainer: reward              # trains on the noisy files, evaluates on the noise-free held-out questions
 *     data: { from: stage-2, file: pairwise.jsonl, validation_file: heldout/pairwise.jsonl }
 * </pre>
 *
 * The files go to {@code <stage dir>/feedback/} ({@link FeedbackSet} has the formats, {@link FeedbackRules} the
 * rules, {@link LabelNoise} the noise, {@link FeedbackSettings} the settings); the result's {@code output()} is that
 * folder. Prompts are {@code <eos>} + the prompt's tokens, as SFT trained them; a completion ends at {@code <eos>}
 * (or the end-of-turn token, when the tokenizer has one). Reproducible: the samples come from the run's seed (plus
 * {@code seed:}) in fixed groups of {@value #GROUP} prompts, the noise from one stream per prompt and kind.
 *
 * <p><b>Held-out feedback.</b> With label noise, a reward model evaluated on a split of the noisy files is graded
 * against the annotators' mistakes (with 10 % of the pairs flipped its measured accuracy cannot exceed about 0.90). So
 * {@code heldout: f} (a fraction in [0, 0.9], default 0) holds a share {@code f} of the questions out: chosen by
 * question text and seed ({@link HeldOut}; all answers of a question on one side, whatever the order of the data),
 * their feedback is written with the same rules and formats but WITHOUT noise, i.e. exactly as the verifier judged,
 * into {@code feedback/heldout/pairwise.jsonl}, {@code listwise.jsonl}, {@code pointwise.jsonl} and
 * {@code process.jsonl}, and left out of the training files. A reward stage reading {@code file: pairwise.jsonl}
 * evaluates with {@code validation_file: heldout/pairwise.jsonl} (as above): questions it never trained on, judged by
 * the truth. The held-out files are part of the folder's all-or-nothing write, of its fingerprint and of the stop
 * protocol; the metrics add {@code feedback_heldout_prompts}, {@code _pairs}, {@code _lists}, {@code _ratings},
 * {@code _process_records} and {@code _steps}. With {@code heldout: 0} there is no {@code heldout/} folder and the
 * files are the same, byte for byte, as without the setting.
 *
 * <p>On a stop request the stage stops between groups of prompts and writes nothing (the folder is written whole at
 * the end, or not at all); a rerun starts over. A rerun finding a complete folder made from the same settings, seed,
 * model and prompts does nothing.
 */
@Component(configurationPid = FeedbackTrainer.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "feedback")
public final class FeedbackTrainer implements Trainer {

    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.feedback";
    /** Reference name (and stage key) of the task whose verifier judges completions. */
    public static final String TASK = "task";
    /** Prompts generated together: fixed, so the samples do not depend on anything but the seed and settings. */
    static final int GROUP = 8;
    /** Seconds between progress messages. */
    private static final long PROGRESS_MILLIS = 5000;

    private final Generator generator;
    private final WeightStore weights;

    @Reference(name = ATTENTION, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AttentionKernel attention;

    @Reference(name = TASK, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Task task;

    private final TrainerGuard guard = new TrainerGuard();

    @Activate
    public FeedbackTrainer(@Reference(name = "generator") Generator generator,
            @Reference(name = "weights") WeightStore weights) {
        this.generator = generator;
        this.weights = weights;
    }

    /** For tests outside OSGi: the services DS would bind. */
    FeedbackTrainer(Generator generator, WeightStore weights, AttentionKernel attention, Task task) {
        this(generator, weights);
        this.attention = attention;
        this.task = task;
    }

    /** A running stage stops at its next group of prompts; deactivation waits (up to a minute) for that. */
    @Deactivate
    void deactivate(BundleContext context) throws InterruptedException {
        guard.deactivate(context);
    }

    /** The guard (tests mark it deactivated). */
    TrainerGuard guard() {
        return guard;
    }

    @Override
    public TrainingResult train(TrainingContext ctx) throws Exception {
        return guard.run(() -> trainLocked(ctx));
    }

    private TrainingResult trainLocked(TrainingContext ctx) throws Exception {
        FeedbackSettings cfg = new FeedbackSettings(ctx.settings());
        Path init = ctx.init().orElseThrow(() -> ctx.settings().error("init", "names no model folder: feedback"
                + " samples from a trained policy, e.g. init: stage-1"));
        ModelConfig config = StageModels.policyConfig(ctx, weights);
        // each plugin is read once, here
        AttentionKernel kernel = Bound.require("feedback", attention, ATTENTION, config.attention());
        Task judge = Bound.require("feedback", task, TASK, cfg.task);
        Tokenizer tokenizer = ctx.tokenizer();

        List<String> all = prompts(ctx);
        List<String> prompts = all.subList(0, Math.min(all.size(), cfg.prompts));
        if (cfg.prompts != Integer.MAX_VALUE && cfg.prompts > all.size()) {
            message(ctx, "feedback: prompts: " + cfg.prompts + " but the data has " + all.size() + "; using all "
                    + all.size());
        }
        long seed = ctx.seed() + cfg.seedOffset;
        String fingerprint = cfg.fingerprint() + " seed=" + seed + " model=" + describe(init) + " prompts="
                + prompts.size() + ":" + sha256(String.join("\u0000", prompts));
        FeedbackFolder folder = new FeedbackFolder(ctx.workDir());
        HeldOut heldOut = new HeldOut(cfg.heldout, seed);
        Optional<Map<String, Double>> done = folder.complete(fingerprint, heldOut.enabled());
        if (done.isPresent()) {
            message(ctx, "feedback: " + folder.path() + " is complete (made from the same settings, seed, model and"
                    + " prompts); nothing to do. Delete it to sample again.");
            return new TrainingResult(TrainingResult.Status.COMPLETED,
                    done.get().getOrDefault("feedback_prompts", 0.0).longValue(), done.get(), List.of(),
                    folder.path());
        }
        folder.discardTemporary();

        // <eos> + prompt, as SFT trains; prompts that leave no room for an answer are left out
        List<Integer> kept = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            int[] encoded = tokenizer.encode(prompts.get(i));
            int[] p = new int[encoded.length + 1];
            p[0] = tokenizer.eosId();
            System.arraycopy(encoded, 0, p, 1, encoded.length);
            if (p.length < config.context()) {
                kept.add(i);
                ids.add(p);
            }
        }
        if (kept.size() < prompts.size()) {
            message(ctx, "feedback: " + (prompts.size() - kept.size()) + " of " + prompts.size() + " prompts are"
                    + " model.context = " + config.context() + " tokens or longer and leave no room for an answer;"
                    + " they are left out");
        }
        if (kept.isEmpty()) {
            throw ctx.settings().error("data", "no prompt fits the model's context (" + config.context()
                    + " tokens); use shorter prompts or a model with a longer context");
        }
        int[] stopIds = StopTokens.of(tokenizer);
        message(ctx, String.format(Locale.ROOT, "feedback: %d completions of each of %d prompts from %s (%s),"
                + " judged by task %s; temperature %s%s, up to %d tokens; %s; %s; files into %s", cfg.samples,
                kept.size(), init, config, cfg.task, cfg.temperature,
                (cfg.topK > 0 ? " top_k " + cfg.topK : "") + (cfg.topP < 1 ? " top_p " + cfg.topP : ""),
                cfg.maxTokens, cfg.noise,
                heldOut.enabled() ? "about " + Math.round(100 * cfg.heldout) + "% of the questions held out, without"
                        + " noise, into " + folder.heldout() : "no held-out questions", folder.path()));

        FeedbackSet set = new FeedbackSet(cfg.answerBonus, cfg.noise, seed, heldOut).outcomePairs(cfg.outcomePairs);
        List<String> samples = new ArrayList<>();
        long lastProgress = System.currentTimeMillis();
        try (GenerationSession session = generator.openFolder(init, kernel)) {
            session.warnings().forEach(w -> message(ctx, "feedback: " + w));
            for (int from = 0; from < kept.size(); from += GROUP) {
                String why = guard.deactivated() != null ? guard.deactivated()
                        : ctx.stopRequested() ? ctx.stopReason() : null;
                if (why != null) {
                    folder.discardTemporary();
                    message(ctx, "feedback: stopped after " + from + " of " + kept.size() + " prompts (" + why
                            + "); no feedback files were written: a rerun samples them all again");
                    return new TrainingResult(TrainingResult.Status.STOPPED, from, set.metrics(), samples, null);
                }
                int to = Math.min(kept.size(), from + GROUP);
                GenerationSettings gs = GenerationSettings.builder().samples(cfg.samples)
                        .temperature(cfg.temperature).topK(cfg.topK).topP(cfg.topP).maxNewTokens(cfg.maxTokens)
                        .stopTokens(stopIds)
                        .seed(LabelNoise.mix(seed, from)).build();
                List<List<Completion>> out = session.generate(ids.subList(from, to), gs);
                for (int i = from; i < to; i++) {
                    String prompt = prompts.get(kept.get(i));
                    List<String> texts = new ArrayList<>(cfg.samples);
                    List<Verdict> verdicts = new ArrayList<>(cfg.samples);
                    for (Completion c : out.get(i - from)) {
                        String text = tokenizer.decode(StopTokens.strip(c.tokens(), stopIds));
                        texts.add(text);
                        verdicts.add(judge.verify(prompt, text));
                    }
                    set.add(kept.get(i), prompt, texts, verdicts);
                    if (samples.size() < 3) {
                        samples.add(prompt + texts.get(0));
                    }
                }
                long now = System.currentTimeMillis();
                if (now - lastProgress >= PROGRESS_MILLIS && to < kept.size()) {
                    lastProgress = now;
                    ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).step(to).totalSteps(kept.size())
                            .message(String.format(Locale.ROOT, "feedback: %d of %d prompts done; %.1f%% of"
                                    + " completions right so far", to, kept.size(),
                                    100 * set.metrics().get("feedback_correct_share")))
                            .build());
                }
            }
        }
        folder.write(set, fingerprint);
        Map<String, Double> metrics = set.metrics();
        message(ctx, String.format(Locale.ROOT, "feedback: %d prompts, %d completions (%.1f%% with the right"
                + " answer, %.1f%% with every step right too); wrote %d pairs, %d lists, %d ratings and %d step"
                + " sequences (%d steps) to %s; noisy: %d pairs, %d lists, %d ratings, %d steps", set.prompts,
                set.completions, 100 * metrics.get("feedback_correct_share"),
                100 * metrics.get("feedback_all_steps_correct_share"), set.pairwise.size(), set.listwise.size(),
                set.pointwise.size(), set.process.size(), set.main.steps, folder.path(), set.noisyPairs,
                set.noisyLists, set.noisyRatings, set.noisySteps));
        if (set.holdsOut()) {
            message(ctx, String.format(Locale.ROOT, "feedback: held out %d of %d prompts, without noise: wrote %d"
                    + " pairs, %d lists, %d ratings and %d step sequences (%d steps) to %s", set.heldout.prompts,
                    set.prompts, set.heldout.pairwise.size(), set.heldout.listwise.size(),
                    set.heldout.pointwise.size(), set.heldout.process.size(), set.heldout.steps, folder.heldout()));
            if (set.heldout.prompts == 0 || set.main.prompts == 0) {
                message(ctx, "feedback: heldout: " + cfg.heldout + " put " + (set.main.prompts == 0 ? "every" : "no")
                        + " question of " + set.prompts + " in " + folder.heldout() + "; with so few prompts the"
                        + " share is coarse: use more prompts (or another heldout)");
            }
        }
        if (set.pairwise.isEmpty() && set.main.prompts > 0) {
            message(ctx, "feedback: pairwise.jsonl and listwise.jsonl are empty: in every prompt the " + cfg.samples
                    + " completions were equally good (" + set.tiedPrompts + " tied prompts), so a stage that reads"
                    + " them will fail; raise samples or temperature, or start from a better-trained policy");
        }
        if (set.process.isEmpty() && set.main.prompts > 0) {
            message(ctx, "feedback: process.jsonl is empty: every completion was empty (the policy wrote <eos> at"
                    + " once); start from a better-trained policy");
        }
        return new TrainingResult(TrainingResult.Status.COMPLETED, set.prompts, metrics, samples, folder.path());
    }

    /** The text prompts of the stage's prompt-completion examples, in order. */
    private static List<String> prompts(TrainingContext ctx) {
        List<Example> examples = ctx.trainExamples();
        if (examples.isEmpty()) {
            throw ctx.settings().error("data", "feedback needs prompts: give the stage a data: section of"
                    + " prompt-completion examples (e.g. data: { generate: { name: arithmetic, format:"
                    + " prompt-completion, count: 500 } } or data: { train: prompts.jsonl })");
        }
        List<String> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            if (!(e instanceof PromptCompletionExample) || ((PromptCompletionExample) e).prompt().isConversational()) {
                throw new IllegalStateException(e.location() + ": feedback reads text prompts of prompt-completion"
                        + " examples, not " + (e instanceof PromptCompletionExample ? "conversational"
                                : e.format().trlName()) + " ones; give the stage prompt-completion data whose"
                        + " prompt is a string");
            }
            out.add(((PromptCompletionExample) e).prompt().text());
        }
        return out;
    }

    /** The model folder with the size and time of its weights, so that retrained weights are noticed. */
    private static String describe(Path folder) throws IOException {
        Path w = folder.resolve("model.safetensors");
        return folder.toAbsolutePath().normalize() + (Files.isRegularFile(w)
                ? "@" + Files.size(w) + ":" + Files.getLastModifiedTime(w).toMillis() : "");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static void message(TrainingContext ctx, String text) {
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message(text).build());
    }
}
