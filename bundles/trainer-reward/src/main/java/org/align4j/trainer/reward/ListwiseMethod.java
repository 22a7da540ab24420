package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.ListwiseLoss;
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
import org.tensorflow.types.TInt32;

/**
 * A reward model from rankings of K completions per prompt: the B·K completions of a batch are scored in one pass
 * (lists shorter than the batch's longest are padded with masked slots), and the listwise loss (accumulated
 * pairwise, Plackett-Luce, ListNet) orders the scores as the ranking does. Held out: {@code eval_kendall_tau} and
 * {@code eval_ndcg}, averaged over lists.
 */
final class ListwiseMethod extends RewardMethod {
    /** One ranked list as token sequences; {@code ranks[i]} is completion i's rank, 0 the best. */
    static final class Ranked {
        final List<TokenSequence> completions;
        final int[] ranks;

        Ranked(List<TokenSequence> completions, int[] ranking) {
            this.completions = completions;
            this.ranks = new int[ranking.length];
            for (int position = 0; position < ranking.length; position++) {
                ranks[ranking[position]] = position;
            }
        }
    }

    private final ListwiseLoss lossFn;
    private final Settings lossSettings;
    private final List<Ranked> train;
    private final List<Ranked> valid;
    private final TokenSequence filler;
    private Placeholder<TInt32> ranks; // [B, K]
    private Placeholder<TFloat32> mask; // [B, K]

    ListwiseMethod(RewardSettings cfg, ModelConfig config, ModelConfig reference, AttentionKernel kernel, Collator collator, int padId,
            Path init, long seed, ListwiseLoss lossFn, Settings lossSettings, List<Ranked> train, List<Ranked> valid,
            int eosId) {
        super(cfg, config, reference, kernel, collator, padId, init, train.size(), seed);
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.train = train;
        this.valid = valid;
        this.filler = new TokenSequence(new int[] {eosId}, new boolean[] {true}); // a masked slot's stand-in
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        buildScores(tf, models);
        ranks = tf.withName("ranks").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        mask = tf.withName("list_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
        Operand<TFloat32> perList = tf.reshape(scores, tf.shape(ranks)); // [B, K]
        return objective(lossFn.compute(tf, perList, ranks, mask, lossSettings));
    }

    @Override
    public Feeds batch(long step) {
        return lists(pick(train, indices(step)), true);
    }

    private Feeds lists(List<Ranked> lists, boolean training) {
        int k = 0;
        for (Ranked r : lists) {
            k = Math.max(k, r.completions.size());
        }
        List<TokenSequence> seqs = new ArrayList<>();
        int[] rk = new int[lists.size() * k];
        float[] m = new float[lists.size() * k];
        for (int b = 0; b < lists.size(); b++) {
            Ranked r = lists.get(b);
            for (int j = 0; j < k; j++) {
                boolean real = j < r.completions.size();
                seqs.add(real ? r.completions.get(j) : filler);
                rk[b * k + j] = real ? r.ranks[j] : k;
                m[b * k + j] = real ? 1f : 0f;
            }
        }
        Feeds f = rows(seqs, training);
        return f.ints(ranks, lists.size(), rk).floats(mask, lists.size(), m);
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean lastEval) {
        int n = evalCount(valid.size(), lastEval);
        if (n == 0) {
            return Map.of();
        }
        List<TokenSequence> seqs = new ArrayList<>();
        for (Ranked r : valid.subList(0, n)) {
            seqs.addAll(r.completions);
        }
        double[] s = score(run, seqs);
        double tau = 0;
        double ndcg = 0;
        int at = 0;
        for (Ranked r : valid.subList(0, n)) {
            double[] mine = java.util.Arrays.copyOfRange(s, at, at + r.completions.size());
            at += r.completions.size();
            tau += RewardMetrics.kendallTau(mine, r.ranks);
            ndcg += RewardMetrics.ndcg(mine, r.ranks);
        }
        return metrics("eval_kendall_tau", tau / n, "eval_ndcg", ndcg / n);
    }
}
