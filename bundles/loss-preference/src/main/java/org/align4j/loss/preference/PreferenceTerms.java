package org.align4j.loss.preference;

import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.PreferenceBatch;
import org.align4j.api.pipeline.Settings;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * What the preference losses share: the log-ratio gap, the batch mean, the {@value #LABEL_SMOOTHING} setting and
 * TRL's metrics.
 *
 * <pre>
 * logits[b]    = (pc[b] - pr[b]) - (rc[b] - rr[b])      policy and reference log-probs of chosen and rejected, [B]
 * chosen[b]    = beta * (pc[b] - rc[b])                 the implicit reward of the chosen completion, [B]
 * rejected[b]  = beta * (pr[b] - rr[b])                 and of the rejected one, [B]
 * </pre>
 *
 * Metrics, named as TRL names them: {@value #REWARDS_CHOSEN} (mean of {@code chosen}), {@value #REWARDS_REJECTED}
 * (mean of {@code rejected}), {@value #REWARDS_ACCURACIES} (share of pairs with {@code chosen > rejected}, strictly:
 * a tie counts as wrong), {@value #REWARDS_MARGINS} (mean of {@code chosen - rejected}), {@value #LOGPS_CHOSEN}
 * (mean of {@code pc}) and {@value #LOGPS_REJECTED} (mean of {@code pr}). All use the summed log-probs as the batch
 * gives them.
 */
final class PreferenceTerms {
    /** Setting of {@code dpo} and {@code robust-dpo}: the assumed share of flipped labels, in {@code [0, 0.5)}. */
    static final String LABEL_SMOOTHING = "label_smoothing";

    static final String REWARDS_CHOSEN = "rewards/chosen";
    static final String REWARDS_REJECTED = "rewards/rejected";
    static final String REWARDS_ACCURACIES = "rewards/accuracies";
    static final String REWARDS_MARGINS = "rewards/margins";
    static final String LOGPS_CHOSEN = "logps/chosen";
    static final String LOGPS_REJECTED = "logps/rejected";

    private PreferenceTerms() {
    }

    /** {@code (pc - pr) - (rc - rr)}, {@code [B]}. */
    static Operand<TFloat32> logits(Ops tf, PreferenceBatch batch) {
        Operand<TFloat32> policy = tf.math.sub(batch.policyChosen(), batch.policyRejected()); // [B]
        Operand<TFloat32> reference = tf.math.sub(batch.referenceChosen(), batch.referenceRejected()); // [B]
        return tf.math.sub(policy, reference); // [B]
    }

    /** {@code beta * x}, elementwise. */
    static Operand<TFloat32> scaled(Ops tf, float beta, Operand<TFloat32> x) {
        return tf.math.mul(tf.constant(beta), x);
    }

    /** {@code -log sigmoid(x) = softplus(-x)}, elementwise: TensorFlow's Softplus, stable for any x. */
    static Operand<TFloat32> negLogSigmoid(Ops tf, Operand<TFloat32> x) {
        return tf.math.softplus(tf.math.neg(x));
    }

    /** {@code sum(v) / max(size(v), 1)}: the mean of a vector, 0 when it is empty. */
    static Operand<TFloat32> mean(Ops tf, Operand<TFloat32> v) {
        Operand<TFloat32> n = tf.dtypes.cast(tf.size(v), TFloat32.class); // []
        return tf.math.div(tf.reduceSum(v, tf.constant(0)), tf.math.maximum(n, tf.constant(1f))); // []
    }

    /** {@value #LABEL_SMOOTHING} from {@code settings} (default 0), rejecting any other key and values out of range. */
    static double labelSmoothing(Settings settings) {
        settings.checkKnown(LABEL_SMOOTHING);
        double eps = settings.getDouble(LABEL_SMOOTHING, 0.0);
        if (!(eps >= 0 && eps < 0.5)) {
            throw settings.error(LABEL_SMOOTHING, "expected a number in [0, 0.5) (the share of flipped labels; 0 = off),"
                    + " got " + eps);
        }
        return eps;
    }

    /** {@code loss} (per pair, {@code [B]}) averaged over the batch, with the metrics of the class comment. */
    static LossResult result(Ops tf, PreferenceBatch batch, Operand<TFloat32> perPair) {
        float beta = batch.beta();
        Operand<TFloat32> chosen = scaled(tf, beta,
                tf.math.sub(batch.policyChosen(), batch.referenceChosen())); // [B]
        Operand<TFloat32> rejected = scaled(tf, beta,
                tf.math.sub(batch.policyRejected(), batch.referenceRejected())); // [B]
        Operand<TFloat32> correct = tf.dtypes.cast(tf.math.greater(chosen, rejected), TFloat32.class); // [B]
        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put(REWARDS_CHOSEN, mean(tf, chosen));
        metrics.put(REWARDS_REJECTED, mean(tf, rejected));
        metrics.put(REWARDS_ACCURACIES, mean(tf, correct));
        metrics.put(REWARDS_MARGINS, mean(tf, tf.math.sub(chosen, rejected)));
        metrics.put(LOGPS_CHOSEN, mean(tf, batch.policyChosen()));
        metrics.put(LOGPS_REJECTED, mean(tf, batch.policyRejected()));
        return LossResult.of(mean(tf, perPair), metrics);
    }
}
