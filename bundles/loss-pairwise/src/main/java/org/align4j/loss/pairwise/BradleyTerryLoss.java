package org.align4j.loss.pairwise;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.loss.PairwiseLoss;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The Bradley-Terry pairwise loss of a reward model, averaged over the B pairs of a batch, with TRL's optional
 * reward-centering term:
 *
 * <pre>
 * x[b]  = r_c[b] - r_r[b] - m[b]                 (m = 0 when no margin is given)
 * loss  = mean_b softplus(-x[b]) + c * mean_b (r_c[b] + r_r[b])^2
 * </pre>
 *
 * {@code softplus(-x) = -log sigmoid(x)} is TensorFlow's {@code Softplus} op, which is stable for any gap (it returns
 * its argument above about 15 and {@code exp} of it below about -15, never overflowing) and whose gradient
 * {@code sigmoid(-x)} is exact everywhere. The composition {@code relu(-x) + log1p(exp(-|x|))} has the same values but
 * a gradient of 0 instead of -1/2 at {@code x = 0} (TensorFlow differentiates both kinks as 0 there), which is exactly
 * where an untrained reward model with equal scores starts.
 *
 * <p>Setting (the stage's {@code loss:} section): {@value #CENTER}, the coefficient {@code c >= 0} of the centering
 * term (TRL's {@code center_rewards_coefficient}; 0, the default, leaves it out; TRL suggests 0.01). It keeps the
 * scores near zero, which the pairwise term alone leaves free.
 *
 * <p>Metrics, named as TRL names them: {@code accuracy} (share of pairs with {@code r_c > r_r}, strictly: a tie counts
 * as wrong), {@code margin} (mean of {@code r_c - r_r}, without the margin input), {@code min_reward},
 * {@code mean_reward}, {@code max_reward} (over the 2B scores). An empty batch gives a loss of 0.
 */
@Component
@LossService(name = "bradley-terry", family = LossFamily.PAIRWISE)
public final class BradleyTerryLoss implements PairwiseLoss {

    /** Setting: the coefficient of the reward-centering term, {@code >= 0}, default 0. */
    public static final String CENTER = "center";

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected,
            Operand<TFloat32> margin) {
        return build(tf, chosen, rejected, margin, 0.0);
    }

    @Override
    public LossResult compute(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected, Operand<TFloat32> margin,
            Settings settings) {
        return build(tf, chosen, rejected, margin, center(settings));
    }

    @Override
    public void validate(Settings settings) {
        center(settings);
    }

    /** The centering coefficient from {@code settings}, rejecting unknown keys and values below 0. */
    static double center(Settings settings) {
        settings.checkKnown(CENTER);
        double c = settings.getDouble(CENTER, 0.0);
        if (!(c >= 0) || Double.isInfinite(c)) {
            throw settings.error(CENTER, "expected a number >= 0 (0 = off; TRL suggests 0.01), got " + c);
        }
        return c;
    }

    /** {@code -log sigmoid(x) = softplus(-x)}, elementwise, stable for any x. */
    static Operand<TFloat32> negLogSigmoid(Ops tf, Operand<TFloat32> x) {
        return tf.math.softplus(tf.math.neg(x));
    }

    private static LossResult build(Ops tf, Operand<TFloat32> chosen, Operand<TFloat32> rejected,
            Operand<TFloat32> margin, double center) {
        Operand<TFloat32> diff = tf.math.sub(chosen, rejected); // [B] r_c - r_r
        Operand<TFloat32> x = margin == null ? diff : tf.math.sub(diff, margin); // [B]
        Operand<TFloat32> loss = mean(tf, negLogSigmoid(tf, x)); // []
        if (center > 0) {
            Operand<TFloat32> sum = tf.math.add(chosen, rejected); // [B]
            loss = tf.math.add(loss, tf.math.mul(tf.constant((float) center),
                    mean(tf, tf.math.square(sum)))); // []
        }
        Operand<TFloat32> correct = tf.dtypes.cast(tf.math.greater(chosen, rejected), TFloat32.class); // [B]
        Operand<TFloat32> all = tf.concat(List.of(chosen, rejected), tf.constant(0)); // [2B]
        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", mean(tf, correct));
        metrics.put("margin", mean(tf, diff));
        metrics.put("min_reward", tf.min(all, tf.constant(0)));
        metrics.put("mean_reward", mean(tf, all));
        metrics.put("max_reward", tf.max(all, tf.constant(0)));
        return LossResult.of(loss, metrics);
    }

    /** {@code sum(v) / max(size(v), 1)}: the mean of a vector, 0 when it is empty. */
    private static Operand<TFloat32> mean(Ops tf, Operand<TFloat32> v) {
        Operand<TFloat32> n = tf.dtypes.cast(tf.size(v), TFloat32.class); // []
        return tf.math.div(tf.reduceSum(v, tf.constant(0)), tf.math.maximum(n, tf.constant(1f))); // []
    }
}
