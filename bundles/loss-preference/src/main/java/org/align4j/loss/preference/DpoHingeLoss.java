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
 * The hinge loss of SLiC (Zhao et al., "SLiC-HF", 2023) on DPO's log-ratio gap, averaged over the B pairs of a
 * batch (TRL's {@code loss_type="hinge"}):
 *
 * <pre>
 * logits = (pc - pr) - (rc - rr)                   [B]
 * loss   = mean_b relu(1 - beta * logits)
 * </pre>
 *
 * {@code 1 / beta} is the margin in log-ratio units: a pair won by more gives no loss and no gradient. At the kink
 * ({@code beta * logits = 1}) the gradient is 0, as TensorFlow's Relu gives it. No settings. Metrics: TRL's
 * {@code rewards/*} and {@code logps/*} (see {@link PreferenceTerms}). An empty batch gives 0.
 */
@Component
@LossService(name = "dpo-hinge", family = LossFamily.PREFERENCE)
public final class DpoHingeLoss implements PreferenceLoss {

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch) {
        Operand<TFloat32> z = PreferenceTerms.scaled(tf, batch.beta(), PreferenceTerms.logits(tf, batch)); // [B]
        Operand<TFloat32> perPair = tf.nn.relu(tf.math.sub(tf.constant(1f), z)); // [B]
        return PreferenceTerms.result(tf, batch, perPair);
    }

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch, Settings settings) {
        validate(settings);
        return compute(tf, batch);
    }

    /** Accepts no settings. */
    @Override
    public void validate(Settings settings) {
        settings.checkKnown();
    }
}
