package org.align4j.api.loss;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The causal language-model loss (family {@value LossFamily#LANGUAGE_MODEL}): the mean, over valid positions, of
 * {@code -log softmax(logits[b, t])[targets[b, t]]}.
 *
 * <ul>
 * <li>{@code logits} {@code [B, T, V]}: the model's scores for the token after position {@code t};</li>
 * <li>{@code targets} {@code [B, T]} int32 in {@code [0, V)}: the token that actually follows (already shifted);</li>
 * <li>{@code mask} {@code [B, T]} float, 1 where the position counts and 0 for padding (or, in SFT, the prompt).</li>
 * </ul>
 * The reduction is {@code sum(mask * nll) / max(sum(mask), 1)}: a mean over tokens, not over sequences, so long and
 * short sequences weigh per token. Masked positions contribute neither to the loss nor to its gradient, whatever
 * their targets hold.
 */
@ConsumerType
public interface LanguageModelLoss {
    /** @return scalar loss; metrics may include {@code num_tokens}. */
    LossResult compute(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets, Operand<TFloat32> mask);
}
