package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.Example;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.ProcessLoss;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.model.LikelihoodInputs;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.training.Feeds;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A process reward model: the steps of a solution are written one after another, each followed by the step
 * separator token ({@code <|step|>}; with a likelihood reference, the newline that ends its line), and the model's classification head gives the logits of the step labels
 * (correct / neutral / incorrect, or fewer classes as the loss says) at each separator. Held out: step-level
 * precision, recall and F1 of finding incorrect steps ({@code eval_step_precision}, {@code eval_step_recall},
 * {@code eval_step_f1}), {@code eval_step_accuracy}, and {@code eval_first_error}: the share of solutions whose
 * first incorrect step (or the absence of one) the model places exactly.
 */
final class ProcessMethod extends RewardMethod {
    /** One solution: its tokens, the positions of its step separators, and the steps' labels. */
    static final class Labelled {
        final TokenSequence sequence;
        final int[] positions;
        final int[] labels;
        /** Where the first step's tokens start (the prompt's end). */
        final int firstStep;

        Labelled(TokenSequence sequence, int[] positions, int[] labels, int firstStep) {
            this.sequence = sequence;
            this.positions = positions;
            this.labels = labels;
            this.firstStep = firstStep;
        }
    }

    /**
     * Turns process examples into labelled token sequences: {@code <eos> prompt step1 <|step|> step2 <|step|> ...}
     * ({@code \n} in place of {@code <|step|>} with a likelihood reference).
     */
    static final class Steps {
        private final Tokenizer tokenizer;
        private final int context;
        private final int separator;

        /** @param newline each step ends with the newline token (a model with a likelihood reference) */
        Steps(Tokenizer tokenizer, int context, boolean newline) {
            this.tokenizer = tokenizer;
            this.context = context;
            this.separator = separator(tokenizer, newline);
        }

        /** The token that ends each step: the newline (with a likelihood reference) or {@code <|step|>}. */
        static int separator(Tokenizer tokenizer, boolean newline) {
            return newline ? newline(tokenizer) : tokenizer.specialTokens().id(SpecialTokens.STEP)
                    .orElseThrow(() -> new IllegalStateException("the run's tokenizer has no step separator token"
                            + " (<|step|>): a reward model scored by steps marks each with it; train a new tokenizer"
                            + " (delete the workdir's tokenizer.json) so it gets one"));
        }

        /** The id of {@code "\n"}, which must be one token. */
        static int newline(Tokenizer tokenizer) {
            int[] ids = tokenizer.encode("\n");
            if (ids.length != 1) {
                throw new IllegalStateException("the tokenizer encodes \"\\n\" as " + ids.length + " tokens: a process"
                        + " reward model with a likelihood reference ends each step at its newline, one token");
            }
            return ids[0];
        }

        List<Labelled> all(List<Example> examples, int[] dropped) {
            List<Labelled> out = new ArrayList<>();
            for (Example e : examples) {
                Labelled l = of(RewardTrainer.as(e, ProcessExample.class, "process"));
                if (l == null) {
                    dropped[0]++;
                } else {
                    out.add(l);
                }
            }
            return out;
        }

        /** The example's sequence, cut from the left of its prompt to fit; null when its steps do not fit. */
        Labelled of(ProcessExample p) {
            List<Integer> ids = new ArrayList<>();
            ids.add(tokenizer.eosId());
            for (int id : tokenizer.encode(p.prompt())) {
                ids.add(id);
            }
            int promptLength = ids.size();
            int[] positions = new int[p.steps().size()];
            for (int s = 0; s < p.steps().size(); s++) {
                for (int id : tokenizer.encode(p.steps().get(s))) {
                    ids.add(id);
                }
                positions[s] = ids.size();
                ids.add(separator);
            }
            int cut = Math.max(0, ids.size() - context);
            if (cut > promptLength) {
                return null;
            }
            int[] seq = new int[ids.size() - cut];
            boolean[] keep = new boolean[seq.length];
            for (int i = 0; i < seq.length; i++) {
                seq[i] = ids.get(cut + i);
                keep[i] = cut + i >= promptLength;
            }
            for (int s = 0; s < positions.length; s++) {
                positions[s] -= cut;
            }
            return new Labelled(new TokenSequence(seq, keep), positions, p.labels().clone(), promptLength - cut);
        }
    }

    private final ProcessLoss lossFn;
    private final Settings lossSettings;
    private final List<Labelled> train;
    private final List<Labelled> valid;
    private Placeholder<TInt32> positions; // [B, S]
    private Placeholder<TInt32> labels; // [B, S]
    private Placeholder<TFloat32> stepMask; // [B, S]
    private Operand<TFloat32> stepLogits; // [B, S, C]
    private Placeholder<TFloat32> stepTokens; // [B, S, T] with score_likelihood

    ProcessMethod(RewardSettings cfg, ModelConfig config, ModelConfig reference, AttentionKernel kernel, Collator collator, int padId,
            Path init, long seed, ProcessLoss lossFn, Settings lossSettings, List<Labelled> train,
            List<Labelled> valid) {
        super(cfg, config, reference, kernel, collator, padId, init, train.size(), seed);
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.train = train;
        this.valid = valid;
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        buildScores(tf, models);
        positions = tf.withName("step_positions").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        labels = tf.withName("step_labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        stepMask = tf.withName("step_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        Operand<TFloat32> logits = model.classify(tf, hidden); // [B, T, C]
        Operand<TInt32> t = tf.gather(tf.shape(tokens), tf.constant(1), tf.constant(0)); // []
        Operand<TFloat32> at = tf.oneHot(positions, t, tf.constant(1f), tf.constant(0f)); // [B, S, T]
        stepLogits = tf.train.batchMatMul(at, logits, TFloat32.class); // [B, S, C]
        if (config.scoreLikelihood()) { // each step's [min, mean] token log-probability, weighted per class
            stepTokens = tf.withName("step_tokens").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, -1, -1)));
            stepLogits = tf.math.add(stepLogits, model.classifyLikelihood(tf,
                    reference != null ? likelihoodModel.stepProbFeatures(tf, likelihoodHidden, next, stepTokens)
                            : model.stepLogProbFeatures(tf, hidden, next, stepTokens))); // [B, S, C]
        }
        return objective(lossFn.compute(tf, stepLogits, labels, stepMask, lossSettings));
    }

    @Override
    public Feeds batch(long step) {
        return solutions(pick(train, indices(step)), true);
    }

    private Feeds solutions(List<Labelled> batch, boolean training) {
        int s = 1;
        List<TokenSequence> seqs = new ArrayList<>();
        for (Labelled l : batch) {
            s = Math.max(s, l.positions.length);
            seqs.add(l.sequence);
        }
        TokenBatch b = collator.collate(seqs, config.context(), padId);
        int[] pos = new int[batch.size() * s];
        int[] lab = new int[batch.size() * s];
        float[] m = new float[batch.size() * s];
        for (int i = 0; i < batch.size(); i++) {
            Labelled l = batch.get(i);
            for (int j = 0; j < l.positions.length; j++) {
                pos[i * s + j] = l.positions[j];
                lab[i * s + j] = l.labels[j];
                m[i * s + j] = 1f;
            }
        }
        Feeds f = feed(b, training).ints(positions, batch.size(), pos).ints(labels, batch.size(), lab)
                .floats(stepMask, batch.size(), m);
        if (stepTokens != null) { // the positions that predict each step's tokens
            int t = b.length();
            int[] first = new int[batch.size()];
            List<int[]> separators = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                first[i] = batch.get(i).firstStep;
                separators.add(batch.get(i).positions);
            }
            f.floats(stepTokens, Shape.of(batch.size(), s, t),
                    LikelihoodInputs.stepTokens(batch.size(), s, t, first, separators));
        }
        return f;
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean lastEval) {
        int n = evalCount(valid.size(), lastEval);
        if (n == 0) {
            return Map.of();
        }
        long tp = 0;
        long fp = 0;
        long fn = 0;
        long right = 0;
        long steps = 0;
        long located = 0;
        int chunk = Math.max(1, 2 * cfg.loop.batch);
        for (int from = 0; from < n; from += chunk) {
            List<Labelled> part = valid.subList(from, Math.min(n, from + chunk));
            try (Feeds f = solutions(part, false);
                    Result r = f.feed(run.session().runner()).fetch(stepLogits).run()) {
                TFloat32 out = (TFloat32) r.get(0); // [B, S, C]
                int c = (int) out.shape().get(2);
                for (int i = 0; i < part.size(); i++) {
                    Labelled l = part.get(i);
                    int predictedFirst = -1;
                    int actualFirst = -1;
                    for (int j = 0; j < l.labels.length; j++) {
                        float[] logits = new float[c];
                        for (int k = 0; k < c; k++) {
                            logits[k] = out.getFloat(i, j, k);
                        }
                        int predicted = lossFn.predict(logits, lossSettings);
                        boolean isWrong = predicted == StepLabel.INCORRECT;
                        boolean wasWrong = l.labels[j] == StepLabel.INCORRECT;
                        tp += isWrong && wasWrong ? 1 : 0;
                        fp += isWrong && !wasWrong ? 1 : 0;
                        fn += !isWrong && wasWrong ? 1 : 0;
                        right += predicted == l.labels[j] ? 1 : 0;
                        steps++;
                        predictedFirst = predictedFirst < 0 && isWrong ? j : predictedFirst;
                        actualFirst = actualFirst < 0 && wasWrong ? j : actualFirst;
                    }
                    located += predictedFirst == actualFirst ? 1 : 0;
                }
            }
        }
        return metrics("eval_step_precision", tp + fp == 0 ? 0.0 : (double) tp / (tp + fp),
                "eval_step_recall", tp + fn == 0 ? 0.0 : (double) tp / (tp + fn),
                "eval_step_f1", RewardMetrics.f1(tp, fp, fn),
                "eval_step_accuracy", steps == 0 ? 0.0 : (double) right / steps,
                "eval_first_error", (double) located / n);
    }
}
