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
 * The robust DPO loss (Chowdhury et al., "Provably Robust DPO", 2024): an unbiased estimate of the DPO loss when a
 * share {@code eps} of the preference labels is flipped, averaged over the B pairs of a batch:
 *
 * <pre>
 * z      = beta * ((pc - pr) - (rc - rr))                                             [B]
 * loss   = mean_b ((1 - eps) * softplus(-z) - eps * softplus(z)) / (1 - 2 * eps)
 *        = mean_b softplus(-z) - eps / (1 - 2 * eps) * z                              (as built)
 * </pre>
 *
 * The second line is the same function ({@code softplus(z) = z + softplus(-z)}); it has no cancellation between two
 * large terms, so it stays exact for gaps of +-1000. Unlike DPO's, this loss can be negative: it is unbounded below
 * when {@code eps > 0}, as in the paper and in TRL ({@code loss_type="robust"}).
 *
 * <p>Setting (the stage's {@code loss:} section): {@value PreferenceTerms#LABEL_SMOOTHING}, {@code eps} in
 * {@code [0, 0.5)}, default 0 (then this is plain DPO). Metrics: TRL's {@code rewards/*} and {@code logps/*} (see
 * {@link PreferenceTerms}). An empty batch gives 0.
 */
@Component
@LossService(name = "robust-dpo", family = LossFamily.PREFERENCE)
public final class RobustDpoLoss implements PreferenceLoss {

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch) {
        return build(tf, batch, 0.0);
    }

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch, Settings settings) {
        return build(tf, batch, PreferenceTerms.labelSmoothing(settings));
    }

    /** Accepts only {@value PreferenceTerms#LABEL_SMOOTHING}, in {@code [0, 0.5)}. */
    @Override
    public void validate(Settings settings) {
        PreferenceTerms.labelSmoothing(settings);
    }

    private static LossResult build(Ops tf, PreferenceBatch batch, double eps) {
        Operand<TFloat32> z = PreferenceTerms.scaled(tf, batch.beta(), PreferenceTerms.logits(tf, batch)); // [B]
        Operand<TFloat32> perPair = PreferenceTerms.negLogSigmoid(tf, z); // [B]
        if (eps > 0) {
            perPair = tf.math.sub(perPair, tf.math.mul(tf.constant((float) (eps / (1 - 2 * eps))), z)); // [B]
        }
        return PreferenceTerms.result(tf, batch, perPair);
    }
}
