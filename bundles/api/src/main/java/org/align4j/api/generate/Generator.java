package org.align4j.api.generate;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.osgi.annotation.versioning.ProviderType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Opens generation sessions on a model and offers the graph-level log-probability function trainers build into their
 * own graphs (DPO, PPO).
 *
 * <pre>
 * try (GenerationSession s = generator.openFolder(Path.of("runs/tiny/model"), kernel)) {
 *     List&lt;List&lt;Completion&gt;&gt; out = s.generate(List.of(promptIds),
 *             GenerationSettings.builder().temperature(0.8).topK(40).maxNewTokens(64).seed(7).build());
 * }
 * </pre>
 */
@ProviderType
public interface Generator {

    /**
     * A session with a graph and a TensorFlow session of its own, holding a copy of {@code weights}.
     *
     * @param weights the model's parameters by the names {@code Transformer.parameters()} gives, under any one prefix
     *            (a pretrain run writes {@code model.}); every parameter must be present with its shape
     * @throws IllegalArgumentException naming the parameter that is missing, unknown or of another shape
     */
    GenerationSession open(ModelConfig config, AttentionKernel attention, Map<String, TensorData> weights);

    /**
     * {@link #open} on a model folder as a pretrain run writes it: {@code config.json} and
     * {@code model.safetensors}, read through the {@code WeightStore} service. What the store warns about (unknown
     * keys) is in {@link GenerationSession#warnings()}.
     *
     * @throws IOException naming the file and what is wrong with it
     */
    GenerationSession openFolder(Path modelFolder, AttentionKernel attention) throws IOException;

    /**
     * {@code log softmax(logits)[b, t, targets[b, t]]}, computed as the target's logit minus the log-sum-exp of its
     * row (no {@code [N, V]} one-hot, no LogSoftmax op); differentiable with respect to {@code logits} through
     * TensorFlow's C++ gradients.
     *
     * @param logits {@code [B, T, V]}
     * @param targets {@code [B, T]} int32 ids in {@code [0, V)} (padding: any such id, then mask the result)
     * @return {@code [B, T]}
     */
    Operand<TFloat32> tokenLogProbs(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets);
}
