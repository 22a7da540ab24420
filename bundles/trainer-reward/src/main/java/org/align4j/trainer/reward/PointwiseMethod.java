package org.align4j.trainer.reward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenSequence;
import org.align4j.api.loss.PointwiseLoss;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.pipeline.Settings;
import org.align4j.training.Feeds;
import org.align4j.training.Objective;
import org.align4j.training.StageRun;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A reward model from ratings: each completion's score regresses on its rating, mapped from
 * {@code ratings: { min, max }} to [-1, 1]. Held out: {@code eval_rmse} (on the rating scale) and
 * {@code eval_pearson}.
 */
final class PointwiseMethod extends RewardMethod {
    /** One rated completion. */
    static final class Rated {
        final TokenSequence completion;
        final double rating;

        Rated(TokenSequence completion, double rating) {
            this.completion = completion;
            this.rating = rating;
        }
    }

    private final PointwiseLoss lossFn;
    private final Settings lossSettings;
    private final List<Rated> train;
    private final List<Rated> valid;
    private Placeholder<TFloat32> targets; // [B]

    PointwiseMethod(RewardSettings cfg, ModelConfig config, ModelConfig reference, AttentionKernel kernel, Collator collator, int padId,
            Path init, long seed, PointwiseLoss lossFn, Settings lossSettings, List<Rated> train, List<Rated> valid) {
        super(cfg, config, reference, kernel, collator, padId, init, train.size(), seed);
        this.lossFn = lossFn;
        this.lossSettings = lossSettings;
        this.train = train;
        this.valid = valid;
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        buildScores(tf, models);
        targets = tf.withName("ratings").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
        return objective(lossFn.compute(tf, scores, targets, null, lossSettings));
    }

    @Override
    public Feeds batch(long step) {
        List<Rated> rated = pick(train, indices(step));
        List<TokenSequence> seqs = new ArrayList<>();
        float[] t = new float[rated.size()];
        for (int i = 0; i < rated.size(); i++) {
            seqs.add(rated.get(i).completion);
            t[i] = (float) cfg.normalise(rated.get(i).rating);
        }
        return rows(seqs, true).floats(targets, Shape.of(t.length), t);
    }

    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean lastEval) {
        int n = evalCount(valid.size(), lastEval);
        if (n == 0) {
            return Map.of();
        }
        List<TokenSequence> seqs = new ArrayList<>();
        double[] actual = new double[n];
        for (int i = 0; i < n; i++) {
            seqs.add(valid.get(i).completion);
            actual[i] = valid.get(i).rating;
        }
        double[] s = score(run, seqs);
        double[] predicted = new double[n];
        for (int i = 0; i < n; i++) { // back from [-1, 1] to the rating scale
            predicted[i] = cfg.ratingMin + (s[i] + 1) / 2 * (cfg.ratingMax - cfg.ratingMin);
        }
        return metrics("eval_rmse", RewardMetrics.rmse(predicted, actual), "eval_pearson",
                RewardMetrics.pearson(predicted, actual));
    }
}
