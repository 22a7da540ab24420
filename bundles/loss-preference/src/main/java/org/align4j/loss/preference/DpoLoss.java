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
 * The sigmoid DPO loss (Rafailov et al., "Direct Preference Optimization", 2023), with optional label smoothing
 * (conservative DPO), averaged over the B pairs of a batch:
 *
 * <pre>
 * logits = (pc - pr) - (rc - rr)                                    [B]
 * loss   = mean_b (1 - eps) * softplus(-beta * logits) + eps * softplus(beta * logits)
 * </pre>
 *
 * {@code softplus(-x) = -log sigmoid(x)} is TensorFlow's Softplus op: finite and exact for gaps of +-1000 too.
 *
 * <p>Setting (the stage's {@code loss:} section): {@value PreferenceTerms#LABEL_SMOOTHING}, {@code eps} in
 * {@code [0, 0.5)}, default 0 (plain DPO). It assumes that a share {@code eps} of the labels is flipped, as TRL's
 * {@code label_smoothing} does. Metrics: TRL's {@code rewards/*} and {@code logps/*} (see {@link PreferenceTerms}).
 * An empty batch gives 0.
 */
@Component
@LossService(name = "dpo", family = LossFamily.PREFERENCE)
public final class DpoLoss implements PreferenceLoss {

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
            Operand<TFloat32> flipped = PreferenceTerms.negLogSigmoid(tf, tf.math.neg(z)); // [B]
            perPair = tf.math.add(tf.math.mul(tf.constant((float) (1 - eps)), perPair),
                    tf.math.mul(tf.constant((float) eps), flipped)); // [B]
        }
        return PreferenceTerms.result(tf, batch, perPair);
    }
}
