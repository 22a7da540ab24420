package org.align4j.trainer.sft;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.api.task.Task;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.training.EpochOrder;
import org.align4j.training.ExactMatch;
import org.align4j.training.Feeds;
import org.align4j.training.ModelSpec;
import org.align4j.training.NextTokens;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.align4j.training.TrainingMethod;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Supervised fine-tuning as a method of the shared loop: the policy (started from an earlier stage's model) learns
 * to write the completions of its examples; the causal-LM loss counts only completion tokens, averaged over the
 * tokens of the batch. Evaluation: the validation loss on held-out examples, and held-out exact match: the model
 * answers held-out prompts greedily and a task's verifier (or, without a task, string equality with the reference
 * answer) judges each answer.
 */
final class SftMethod implements TrainingMethod {
    /** The share of held-out answers whose final answer is right: {@code eval_exact_match} in [0, 1]. */
    static final String EVAL_EXACT_MATCH = ExactMatch.EVAL_EXACT_MATCH;
    /** With a task: the share of held-out answers whose every step is right too. */
    static final String EVAL_STEPS_CORRECT = ExactMatch.EVAL_STEPS_CORRECT;

    private final SftSettings cfg;
    private final ModelConfig config;
    private final AttentionKernel kernel;
    private final LanguageModelLoss lossFn;
    private final Tokenizer tokenizer;
    private final Collator collator;
    private final ExactMatch exactMatch;
    private final List<SftExample> train;
    private final List<SftExample> valid;
    private final EpochOrder order;
    private final java.nio.file.Path init;

    private Placeholder<TInt32> tokens; // [B, T]
    private Placeholder<TInt32> targets; // [B, T]
    private Placeholder<TFloat32> mask; // [B, T]
    private Operand<TFloat32> loss; // []
    private long tokensPerStep;
    /** Completion tokens of the last batch {@link #shifted} made (after truncation and dropping). */
    private double lastCounted;

    SftMethod(SftSettings cfg, ModelConfig config, AttentionKernel kernel, LanguageModelLoss lossFn,
            Tokenizer tokenizer, Collator collator, Generator generator, Task task, List<SftExample> train,
            List<SftExample> valid, long seed, java.nio.file.Path init) {
        this.cfg = cfg;
        this.config = config;
        this.kernel = kernel;
        this.lossFn = lossFn;
        this.tokenizer = tokenizer;
        this.collator = collator;
        this.exactMatch = new ExactMatch(generator, tokenizer, task, cfg.exactMatchMaxTokens);
        this.train = train;
        this.valid = valid;
        this.order = new EpochOrder(train.size(), seed);
        this.init = init;
    }

    @Override
    public String name() {
        return "sft";
    }

    @Override
    public List<ModelSpec> models() {
        return List.of(ModelSpec.trained(ModelSpec.POLICY, config, kernel).initFrom(init));
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("completion_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        Transformer policy = models.get(ModelSpec.POLICY);
        // right padding under a causal mask: real tokens never see the padding after them, and padded targets are
        // masked out of the loss, so no key mask is needed
        Operand<TFloat32> hidden = policy.hidden(tf, tokens, null); // [B, T, d]
        Operand<TFloat32> logits = policy.lmLogits(tf, hidden); // [B, T, V]
        loss = lossFn.compute(tf, logits, targets, mask).loss(); // []
        return Objective.minimize(loss);
    }

    @Override
    public Feeds batch(long step) {
        int[] idx = order.batch(step, cfg.loop.batch);
        List<TokenSequence> seqs = new ArrayList<>(idx.length);
        for (int i : idx) {
            seqs.add(train.get(i).sequence);
        }
        return shifted(seqs, true);
    }

    /** Inputs, next-token targets and the completion mask of the targets, of right-padded sequences. */
    private Feeds shifted(List<TokenSequence> seqs, boolean training) {
        TokenBatch b = collator.collate(seqs, config.context() + 1, tokenizer.padId());
        if (b.rows() == 0) {
            throw new IllegalStateException("sft: every example of a batch is longer than model.context + 1 = "
                    + (config.context() + 1) + " tokens with its answer; raise model.context");
        }
        NextTokens n = NextTokens.of(b);
        lastCounted = n.inLoss();
        if (training) {
            tokensPerStep = n.attended();
        }
        return new Feeds().ints(tokens, n.rows(), n.inputs()).ints(targets, n.rows(), n.targets()).floats(mask,
                n.rows(), n.mask());
    }

    @Override
    public long tokensPerStep() {
        return tokensPerStep;
    }

    @Override
    public double epoch(long step) {
        return order.epoch(step, cfg.loop.batch);
    }

    @Override
    public Map<String, Double> stepMetrics(Map<String, Double> fetched) {
        return Map.of(MetricNames.PERPLEXITY, Math.exp(fetched.get(MetricNames.LOSS)));
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean last) throws Exception {
        Map<String, Double> m = new LinkedHashMap<>();
        if (valid.isEmpty()) {
            return m;
        }
        int batch = cfg.loop.batch;
        int count = last ? valid.size() : Math.min(valid.size(), cfg.loop.evalBatches * batch);
        double weighted = 0;
        double tokensSeen = 0;
        for (int from = 0; from < count; from += batch) {
            List<TokenSequence> seqs = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + batch); i++) {
                seqs.add(valid.get(i).sequence);
            }
            try (Feeds f = shifted(seqs, false); Result r = f.feed(run.session().runner()).fetch(loss).run()) {
                // the loss is the mean over the batch's completion tokens: weigh it by their count
                weighted += ((TFloat32) r.get(0)).getFloat() * lastCounted;
            }
            tokensSeen += lastCounted;
        }
        double evalLoss = weighted / Math.max(tokensSeen, 1);
        m.put(MetricNames.EVAL_LOSS, evalLoss);
        m.put(MetricNames.EVAL_PERPLEXITY, Math.exp(evalLoss));
        if (cfg.exactMatchSamples > 0) {
            exactMatch.evaluate(run, step, ModelSpec.POLICY, config, kernel,
                    questions(Math.min(cfg.exactMatchSamples, valid.size())), m);
        }
        return m;
    }

    /** The first {@code n} held-out examples as questions. */
    private List<ExactMatch.Question> questions(int n) {
        List<ExactMatch.Question> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SftExample e = valid.get(i);
            out.add(new ExactMatch.Question(e.prompt, e.promptIds, e.reference));
        }
        return out;
    }

    @Override
    public List<String> finish(StageRun run) {
        List<String> out = new ArrayList<>();
        int n = Math.min(cfg.sampleCount, valid.size());
        if (n == 0) {
            return out;
        }
        List<ExactMatch.Question> qs = questions(n);
        List<String> answers = exactMatch.answer(run, ModelSpec.POLICY, config, kernel, qs).answers();
        for (int i = 0; i < n; i++) {
            String text = qs.get(i).prompt() + answers.get(i);
            out.add(text);
            run.message(cfg.loop.steps, String.format("sample %d (%s): %s", i + 1, exactMatch.judge(qs.get(i),
                    answers.get(i)) ? "right" : "wrong", text.replace("\n", "\\n")));
        }
        return out;
    }
}
