package org.align4j.loss.preference;

import java.util.Locale;

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
 * The IPO loss (Azar et al., "A General Theoretical Paradigm to Understand Learning from Human Preferences", 2023):
 * the squared distance of the log-ratio gap from {@code 1 / (2 beta)}, averaged over the B pairs of a batch:
 *
 * <pre>
 * h    = (pc/nc - pr/nr) - (rc/nc - rr/nr)      normalize: per-token (default; nc, nr: token counts)   [B]
 *      = (pc - pr) - (rc - rr)                  normalize: none                                        [B]
 * loss = mean_b (h - 1 / (2 * beta))^2
 * </pre>
 *
 * Per-token is how TRL trains IPO ({@code loss_type="ipo"} averages the log-probs over the completion's tokens). It
 * needs the token counts of {@link PreferenceBatch#chosenTokens()} and {@link PreferenceBatch#rejectedTokens()}; a
 * count below 1 is taken as 1 (an empty completion has log-prob 0).
 *
 * <p>Setting (the stage's {@code loss:} section): {@value #NORMALIZE}, {@value #PER_TOKEN} (default) or
 * {@value #NONE}. Metrics: TRL's {@code rewards/*} and {@code logps/*} (see {@link PreferenceTerms}), always on the
 * summed log-probs as the batch gives them, also under per-token, so that they compare with the other preference
 * losses. (TRL, which divides the log-probs themselves under IPO, reports its IPO metrics on the per-token means.)
 * An empty batch gives 0.
 */
@Component
@LossService(name = "ipo", family = LossFamily.PREFERENCE)
public final class IpoLoss implements PreferenceLoss {

    /** Setting: how the log-probs are normalised, {@value #PER_TOKEN} (default) or {@value #NONE}. */
    public static final String NORMALIZE = "normalize";
    /** {@value #NORMALIZE} value: divide each completion's log-probs by its token count. */
    public static final String PER_TOKEN = "per-token";
    /** {@value #NORMALIZE} value: use the summed log-probs. */
    public static final String NONE = "none";

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch) {
        return build(tf, batch, true);
    }

    @Override
    public LossResult compute(Ops tf, PreferenceBatch batch, Settings settings) {
        return build(tf, batch, perToken(settings));
    }

    /** Accepts only {@value #NORMALIZE}: {@value #PER_TOKEN} or {@value #NONE}. */
    @Override
    public void validate(Settings settings) {
        perToken(settings);
    }

    /** Whether {@code settings} ask for per-token normalisation (the default); rejects any other key or value. */
    static boolean perToken(Settings settings) {
        settings.checkKnown(NORMALIZE);
        String v = settings.getString(NORMALIZE, PER_TOKEN).trim().toLowerCase(Locale.ROOT);
        if (v.equals(PER_TOKEN)) {
            return true;
        }
        if (v.equals(NONE)) {
            return false;
        }
        throw settings.error(NORMALIZE, "expected " + PER_TOKEN + " or " + NONE + ", got \""
                + settings.getString(NORMALIZE) + "\"");
    }

    private static LossResult build(Ops tf, PreferenceBatch batch, boolean perToken) {
        Operand<TFloat32> h;
        if (perToken) {
            if (batch.chosenTokens().isEmpty() || batch.rejectedTokens().isEmpty()) {
                throw new IllegalArgumentException("ipo loss: " + NORMALIZE + ": " + PER_TOKEN + " (the default) needs"
                        + " the token counts of the chosen and rejected completions, and this batch has none: the"
                        + " trainer must pass them to PreferenceBatch, or set loss." + NORMALIZE + ": " + NONE);
            }
            Operand<TFloat32> one = tf.constant(1f);
            Operand<TFloat32> nc = tf.math.maximum(batch.chosenTokens().get(), one); // [B]
            Operand<TFloat32> nr = tf.math.maximum(batch.rejectedTokens().get(), one); // [B]
            Operand<TFloat32> chosen = tf.math.div(
                    tf.math.sub(batch.policyChosen(), batch.referenceChosen()), nc); // [B] (pc - rc) / nc
            Operand<TFloat32> rejected = tf.math.div(
                    tf.math.sub(batch.policyRejected(), batch.referenceRejected()), nr); // [B] (pr - rr) / nr
            h = tf.math.sub(chosen, rejected); // [B]
        } else {
            h = PreferenceTerms.logits(tf, batch); // [B]
        }
        Operand<TFloat32> target = tf.constant((float) (1 / (2.0 * batch.beta()))); // []
        Operand<TFloat32> perPair = tf.math.square(tf.math.sub(h, target)); // [B]
        return PreferenceTerms.result(tf, batch, perPair);
    }
}
