package org.align4j.api.generate;

import java.util.List;
import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One model ready to generate: its own graph and TensorFlow session. Not safe for concurrent use (calls are
 * serialised). Close it to free the graph and session.
 */
@ProviderType
public interface GenerationSession extends AutoCloseable {

    ModelConfig config();

    /**
     * Replaces the model's weights without rebuilding the graph (e.g. a policy refreshed between rollouts). Same
     * naming rules as {@link Generator#open}.
     */
    void update(Map<String, TensorData> weights);

    /**
     * Continues each prompt {@link GenerationSettings#samples()} times. Prompts of different lengths are batched
     * together (left-padded, each row with its own positions); each row stops on its own.
     *
     * @param prompts token ids, each at least one token and shorter than the model's context
     * @return per prompt, its samples in order
     * @throws IllegalArgumentException naming the prompt that is empty, too long or holds an id outside the
     *             vocabulary
     */
    List<List<Completion>> generate(List<int[]> prompts, GenerationSettings settings);

    /**
     * The model's log-probability of each token of each completion after its prompt, {@code log p(c_j | prompt,
     * c_<j)} (natural log, float32; computed as the target logit minus a log-sum-exp of the row).
     *
     * @param prompts at least one token each; {@code prompts.get(i).length + completions.get(i).length} at most the
     *            context
     * @return per completion, one value per token
     */
    List<float[]> logProbs(List<int[]> prompts, List<int[]> completions);

    /** What loading the model reported but did not fail on (e.g. unknown keys in the weights file); may be empty. */
    List<String> warnings();

    @Override
    void close();
}
