package org.align4j.loss.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.loss.PolicyBatch;
import org.align4j.api.loss.PolicyLoss;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * PPO's clipped surrogate objective with the clipped value loss (Schulman et al., "Proximal Policy Optimization
 * Algorithms", 2017), as TRL's {@code PPOTrainer} computes it for language models. Over the {@code [B, T]} generated
 * tokens of a batch, with the masked mean {@code mean_m(x) = sum(x * m) / max(sum(m), 1)}:
 *
 * <pre>
 * ratio     = exp(logProbs - oldLogProbs)
 * pg_loss   = mean_m(max(-A * ratio, -A * clip(ratio, 1 - cliprange, 1 + cliprange)))
 * v_clipped = oldValues + clip(values - oldValues, -cliprange_value, cliprange_value)
 * vf_loss   = 0.5 * mean_m(max((values - returns)^2, (v_clipped - returns)^2))
 * loss      = pg_loss + vf_coef * vf_loss
 * </pre>
 *
 * The advantages {@code A}, the returns and the rollout-time {@code old*} inputs are constants (their gradients are
 * stopped here): the gradient reaches only {@code logProbs} and {@code values}. A padding position ({@code m = 0})
 * adds nothing to the loss, the metrics or the gradient whatever its inputs hold (even NaN or a log-ratio that would
 * overflow {@code exp}): it is set to 0 before any arithmetic. An all-padding batch gives 0. Where both sides of a
 * {@code max} are equal (inside the clip range) the gradient is the unclipped side's, as TensorFlow's Maximum gives
 * it on ties.
 *
 * <p>Settings (the stage's {@code loss:} section without {@code name}): {@value #CLIPRANGE} ({@code > 0}, default
 * 0.2), {@value #CLIPRANGE_VALUE} ({@code > 0}, default 0.2) and {@value #VF_COEF} ({@code >= 0}, default 0.1),
 * TRL's names and defaults. Metrics, by TRL's names: {@value #POLICY_CLIPFRAC} ({@code mean_m} of the tokens whose
 * clipped surrogate is the larger loss), {@value #POLICY_APPROXKL} ({@code 0.5 * mean_m((logProbs - oldLogProbs)^2)}),
 * {@value #LOSS_POLICY} ({@code pg_loss}), {@value #LOSS_VALUE} ({@code vf_loss}), {@value #VAL_CLIPFRAC}
 * ({@code mean_m} of the tokens whose clipped value loss is the larger), {@value #VAL_RATIO} ({@code mean_m(ratio)})
 * and {@value #VAL_VPRED} ({@code mean_m(values)}).
 */
@Component
@LossService(name = "ppo-clip", family = LossFamily.POLICY)
public final class PpoClipLoss implements PolicyLoss {
    /** Setting: how far the probability ratio may move from 1 before the surrogate stops rewarding the move. */
    static final String CLIPRANGE = "cliprange";
    /** Setting: how far a value prediction may move from its rollout-time value before its loss stops rewarding it. */
    static final String CLIPRANGE_VALUE = "cliprange_value";
    /** Setting: the weight of the value loss in the total. */
    static final String VF_COEF = "vf_coef";
    static final double DEFAULT_CLIPRANGE = 0.2;
    static final double DEFAULT_CLIPRANGE_VALUE = 0.2;
    static final double DEFAULT_VF_COEF = 0.1;

    static final String POLICY_CLIPFRAC = "policy/clipfrac";
    static final String POLICY_APPROXKL = "policy/approxkl";
    static final String LOSS_POLICY = "loss/policy";
    static final String LOSS_VALUE = "loss/value";
    static final String VAL_CLIPFRAC = "val/clipfrac";
    static final String VAL_RATIO = "val/ratio";
    static final String VAL_VPRED = "val/vpred";

    /** The three settings, read and checked. */
    private record Options(double cliprange, double cliprangeValue, double vfCoef) {
        static Options of(Settings settings) {
            Objects.requireNonNull(settings, "settings (pass Settings.empty(...) for the defaults)");
            settings.checkKnown(CLIPRANGE, CLIPRANGE_VALUE, VF_COEF);
            double cliprange = settings.getDouble(CLIPRANGE, DEFAULT_CLIPRANGE);
            if (!(cliprange > 0) || Double.isInfinite(cliprange)) {
                throw settings.error(CLIPRANGE, "expected a number > 0 (the probability ratio is clipped to"
                        + " [1 - cliprange, 1 + cliprange]; TRL's default is 0.2), got " + cliprange);
            }
            double cliprangeValue = settings.getDouble(CLIPRANGE_VALUE, DEFAULT_CLIPRANGE_VALUE);
            if (!(cliprangeValue > 0) || Double.isInfinite(cliprangeValue)) {
                throw settings.error(CLIPRANGE_VALUE, "expected a number > 0 (the value prediction is clipped to"
                        + " within cliprange_value of its rollout-time value; TRL's default is 0.2), got "
                        + cliprangeValue);
            }
            double vfCoef = settings.getDouble(VF_COEF, DEFAULT_VF_COEF);
            if (!(vfCoef >= 0) || Double.isInfinite(vfCoef)) {
                throw settings.error(VF_COEF, "expected a number >= 0 (the weight of the value loss; 0 trains the"
                        + " policy only; TRL's default is 0.1), got " + vfCoef);
            }
            return new Options(cliprange, cliprangeValue, vfCoef);
        }
    }

    @Override
    public LossResult compute(Ops tf, PolicyBatch batch, Settings settings) {
        return build(tf, batch, Options.of(settings));
    }

    /** Accepts {@value #CLIPRANGE} and {@value #CLIPRANGE_VALUE} ({@code > 0}) and {@value #VF_COEF} ({@code >= 0}). */
    @Override
    public void validate(Settings settings) {
        Options.of(settings);
    }

    /** The formula of the class comment. */
    private static LossResult build(Ops tf, PolicyBatch batch, Options o) {
        Operand<TFloat32> m = tf.stopGradient(batch.mask()); // [B, T]
        Operand<TBool> real = tf.math.greater(m, tf.constant(0f)); // [B, T]
        Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(m, tf.constant(new int[] {0, 1})),
                tf.constant(1f)); // []
        Operand<TFloat32> logProbs = onReal(tf, real, batch.logProbs()); // [B, T]
        Operand<TFloat32> oldLogProbs = onReal(tf, real, tf.stopGradient(batch.oldLogProbs())); // [B, T]
        Operand<TFloat32> advantages = onReal(tf, real, tf.stopGradient(batch.advantages())); // [B, T]
        Operand<TFloat32> values = onReal(tf, real, batch.values()); // [B, T]
        Operand<TFloat32> oldValues = onReal(tf, real, tf.stopGradient(batch.oldValues())); // [B, T]
        Operand<TFloat32> returns = onReal(tf, real, tf.stopGradient(batch.returns())); // [B, T]

        Operand<TFloat32> logRatio = tf.math.sub(logProbs, oldLogProbs); // [B, T]
        Operand<TFloat32> ratio = tf.math.exp(logRatio); // [B, T]
        Operand<TFloat32> minusA = tf.math.neg(advantages); // [B, T]
        Operand<TFloat32> pgLosses1 = tf.math.mul(minusA, ratio); // [B, T]
        Operand<TFloat32> pgLosses2 = tf.math.mul(minusA,
                clip(tf, ratio, 1 - o.cliprange(), 1 + o.cliprange())); // [B, T]
        Operand<TFloat32> pgLoss = mean(tf, tf.math.maximum(pgLosses1, pgLosses2), m, count); // []

        Operand<TFloat32> vClipped = tf.math.add(oldValues, clip(tf, tf.math.sub(values, oldValues),
                -o.cliprangeValue(), o.cliprangeValue())); // [B, T]
        Operand<TFloat32> vfLosses1 = tf.math.square(tf.math.sub(values, returns)); // [B, T]
        Operand<TFloat32> vfLosses2 = tf.math.square(tf.math.sub(vClipped, returns)); // [B, T]
        Operand<TFloat32> vfLoss = tf.math.mul(tf.constant(0.5f),
                mean(tf, tf.math.maximum(vfLosses1, vfLosses2), m, count)); // []

        Operand<TFloat32> loss = tf.math.add(pgLoss, tf.math.mul(tf.constant((float) o.vfCoef()), vfLoss)); // []

        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put(POLICY_CLIPFRAC, mean(tf, greater(tf, pgLosses2, pgLosses1), m, count));
        metrics.put(POLICY_APPROXKL, tf.math.mul(tf.constant(0.5f), mean(tf, tf.math.square(logRatio), m, count)));
        metrics.put(LOSS_POLICY, pgLoss);
        metrics.put(LOSS_VALUE, vfLoss);
        metrics.put(VAL_CLIPFRAC, mean(tf, greater(tf, vfLosses2, vfLosses1), m, count));
        metrics.put(VAL_RATIO, mean(tf, ratio, m, count));
        metrics.put(VAL_VPRED, mean(tf, values, m, count));
        return LossResult.of(loss, metrics);
    }

    /** {@code x} where the token is real, 0 on padding (whatever it held); the gradient to padding is 0. */
    private static Operand<TFloat32> onReal(Ops tf, Operand<TBool> real, Operand<TFloat32> x) {
        return tf.select(real, x, tf.zerosLike(x)); // [B, T]
    }

    /** {@code min(max(x, lo), hi)}, elementwise; the gradient is 1 on {@code [lo, hi]} (ends included), else 0. */
    private static Operand<TFloat32> clip(Ops tf, Operand<TFloat32> x, double lo, double hi) {
        return tf.math.minimum(tf.math.maximum(x, tf.constant((float) lo)), tf.constant((float) hi)); // [B, T]
    }

    /** 1 where {@code a > b}, else 0. */
    private static Operand<TFloat32> greater(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
        return tf.dtypes.cast(tf.math.greater(a, b), TFloat32.class); // [B, T]
    }

    /** {@code mean_m(x) = sum(x * m) / max(sum(m), 1)} over all tokens; {@code count} is the denominator. */
    private static Operand<TFloat32> mean(Ops tf, Operand<TFloat32> x, Operand<TFloat32> m, Operand<TFloat32> count) {
        return tf.math.div(tf.reduceSum(tf.math.mul(x, m), tf.constant(new int[] {0, 1})), count); // []
    }
}
