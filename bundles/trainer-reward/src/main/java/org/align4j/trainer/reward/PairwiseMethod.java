package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.PairwiseLoss;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.pipeline.Settings;
import org.align4j.training.Feeds;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A reward model from preference pairs: chosen and rejected completions of a batch are scored in one pass (2B rows,
 * chosen first), and the pairwise loss (Bradley-Terry) pushes {@code r_chosen} above {@code r_rejected}. Held out:
 * {@code eval_accuracy} (the share of pairs scored in the right order, ties wrong) and {@code eval_margin} (the mean
 * of {@code r_chosen - r_rejected}).
 */
final class PairwiseMethod extends RewardMethod {
    /** One pair as token sequences. */
    static final class Pair {
        final TokenSequence chosen;
        final TokenSequence rejected;
        final float margin;

        Pair(TokenSequence chosen, TokenSequence rejected, float margin) {
            this.chosen = chosen;
            this.rejected = rejected;
            this.margin = margin;
        }
    }

    private final PairwiseLoss lossFn;
    private final Settings lossSettings;
    private final List<Pair> train;
    private final List<Pair> valid;
    private Placeholder<TFloat32> margin; // [B]

    PairwiseMethod(RewardSettings cfg, ModelConfig config, ModelConfig reference, AttentionKernel kernel, Collator collator, int padId,
            Path init, long seed, PairwiseLoss lossFn, Settings lossSettings, List<Pair> train, List<Pair> valid) {
        super(cfg, config, reference, kernel, collator, padId, init, train.size(), seed);
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.train = train;
        this.valid = valid;
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        buildScores(tf, models);
        margin = tf.withName("margin").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
        Operand<TFloat32> both = tf.reshape(scores, tf.constant(new int[] {2, -1})); // [2, B]
        Operand<TFloat32> chosen = tf.gather(both, tf.constant(0), tf.constant(0)); // [B]
        Operand<TFloat32> rejected = tf.gather(both, tf.constant(1), tf.constant(0)); // [B]
        return objective(lossFn.compute(tf, chosen, rejected, margin, lossSettings));
    }

    @Override
    public Feeds batch(long step) {
        List<Pair> pairs = pick(train, indices(step));
        List<TokenSequence> chosen = new ArrayList<>();
        List<TokenSequence> rejected = new ArrayList<>();
        float[] m = new float[pairs.size()];
        for (int i = 0; i < pairs.size(); i++) {
            chosen.add(pairs.get(i).chosen);
            rejected.add(pairs.get(i).rejected);
            m[i] = pairs.get(i).margin;
        }
        Feeds f = feed(collator.collatePairs(chosen, rejected, config.context(), padId), true);
        return f.floats(margin, Shape.of(m.length), m);
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean lastEval) {
        int n = evalCount(valid.size(), lastEval);
        if (n == 0) {
            return Map.of();
        }
        List<TokenSequence> seqs = new ArrayList<>();
        for (Pair p : valid.subList(0, n)) {
            seqs.add(p.chosen);
            seqs.add(p.rejected);
        }
        double[] s = score(run, seqs);
        int right = 0;
        double gap = 0;
        for (int i = 0; i < n; i++) {
            right += s[2 * i] > s[2 * i + 1] ? 1 : 0;
            gap += s[2 * i] - s[2 * i + 1];
        }
        return metrics("eval_accuracy", (double) right / n, "eval_margin", gap / n);
    }
}
