package org.align4j.loss.preference;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.LossService;
import org.align4j.api.loss.PreferenceBatch;
import org.align4j.api.loss.PreferenceLoss;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * DPO-Positive (Pal et al., "Smaug: Fixing Failure Modes of Preference Optimisation with DPO-Positive", 2024):
 * the sigmoid DPO loss with a penalty, inside the sigmoid, on every nat the policy's chosen log-probability falls
 * below the reference's, averaged over the B pairs of a batch:
 *
 * <pre>
 * logits = (pc - pr) - (rc - rr) - lambda * max(0, rc - pc)          [B]
 * loss   = mean_b softplus(-beta * logits)
 * </pre>
 *
 * When chosen and rejected differ in a few tokens (two worked answers that part at one digit), plain DPO can widen
 * the gap by making both less likely, the chosen one too: the policy then loses answers it used to give. The
 * penalty makes that a losing move. {@code max(0, .)} has gradient 0 at the kink ({@code pc = rc}), as TensorFlow's
 * Maximum gives it on ties.
 *
 * <p>Setting (the stage's {@code loss:} section): {@value #LAMBDA}, {@code >= 0}, default 50 (the paper's value;
 * 0 is plain DPO). Metrics: TRL's {@code rewards/*} and {@code logps/*} (see {@link PreferenceTerms}); the rewards
 * are the plain log-ratios, without the penalty. An empty batch gives 0.
 */
@Component
@LossService(name = "dpop", family = LossFamily.PREFERENCE)
public final class DpopLoss implements PreferenceLoss {
    /** Setting: the weight of the penalty on the chosen completion's log-probability falling below the reference's. */
    static final String LAMBDA = "lambda";
    static final double DEFAULT_LAMBDA = 50;

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch) {
        return build(tf, batch, DEFAULT_LAMBDA);
    }

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch, Settings settings) {
        return build(tf, batch, lambda(settings));
    }

    /** Accepts only {@value #LAMBDA}, a number {@code >= 0}. */
    @Override
    public void validate(Settings settings) {
        lambda(settings);
    }

    private static double lambda(Settings settings) {
        settings.checkKnown(LAMBDA);
        double lambda = settings.getDouble(LAMBDA, DEFAULT_LAMBDA);
        if (!(lambda >= 0) || Double.isInfinite(lambda)) {
            throw settings.error(LAMBDA, "expected a number >= 0 (the weight of the penalty on the chosen answer"
                    + " becoming less likely than under the reference; 0 = plain DPO), got " + lambda);
        }
        return lambda;
    }

    private static LossResult build(Ops tf, PreferenceBatch batch, double lambda) {
        Operand<TFloat32> drop = tf.math.maximum(tf.constant(0f),
                tf.math.sub(batch.referenceChosen(), batch.policyChosen())); // [B]
        Operand<TFloat32> logits = tf.math.sub(PreferenceTerms.logits(tf, batch),
                tf.math.mul(tf.constant((float) lambda), drop)); // [B]
        Operand<TFloat32> z = PreferenceTerms.scaled(tf, batch.beta(), logits); // [B]
        return PreferenceTerms.result(tf, batch, PreferenceTerms.negLogSigmoid(tf, z));
    }
}
