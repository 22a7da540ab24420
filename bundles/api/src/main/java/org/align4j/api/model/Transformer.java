package org.align4j.api.model;

import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A decoder-only Transformer whose variables live in one graph. The forward methods may be called more than once
 * (e.g. for a training and an evaluation batch, or for chosen and rejected completions): every call shares the same
 * variables. Shapes: {@code B} batch, {@code T <= context} positions, {@code d} model width, {@code V} vocabulary.
 */
@ProviderType
public interface Transformer {

    ModelConfig config();

    /**
     * The final hidden states (after the final norm in pre-norm form).
     *
     * @param tokens {@code [B, T]} int32 token ids
     * @param keyMask {@code [B, T]} float, 1 for real tokens and 0 for padding, or {@code null} when none is padding
     * @return {@code [B, T, d]}
     */
    Operand<TFloat32> hidden(Ops tf, Operand<TInt32> tokens, Operand<TFloat32> keyMask);

    /**
     * The language-model head: {@code hidden @ W_out} (the token embedding, transposed, when tied).
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T, V]} logits of the next token
     */
    Operand<TFloat32> lmLogits(Ops tf, Operand<TFloat32> hidden);

    /**
     * The scalar head used by reward and value models: {@code hidden @ w + b}.
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T]}
     */
    Operand<TFloat32> scalar(Ops tf, Operand<TFloat32> hidden);

    /** Every trainable variable, in a stable order, with the names weights files use. */
    List<Parameter> parameters();

    /**
     * Assigns initial values drawn from a seeded Java generator (not TensorFlow's random ops), so the same seed gives
     * the same model on every machine and thread count.
     */
    void initialize(Session session, long seed);

    /** Reads the current values of the parameters. */
    Map<String, TensorData> read(Session session);

    /**
     * Assigns values to parameters by name. Fails, naming the parameter, on a missing name or a shape that differs;
     * names not in the model are reported unless {@code allowUnknown}.
     */
    void assign(Session session, Map<String, TensorData> values, boolean allowUnknown);
}
