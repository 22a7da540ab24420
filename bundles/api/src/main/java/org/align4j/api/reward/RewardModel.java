package org.align4j.api.reward;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Scores completions of prompts: higher is better. Registered with {@link RewardModelService} (or, for models made
 * from configuration, with the three properties below); consumers do not call it directly but lease it per call
 * through {@link RewardModels}, which picks the newest version of a name, times calls out, retries, and rejects
 * NaN or infinite scores.
 *
 * <p>An implementation may be called from several threads at once; one that cannot run calls in parallel
 * synchronises itself. A call the framework gave up on (timed out) may still be running when the next one comes.
 */
@ConsumerType
public interface RewardModel {

    /** Service property: the name pipelines select the reward model by. */
    String NAME = "align4j.name";
    /**
     * Service property: the version of the model's weights, e.g. {@code 2.1} or {@code 2026-11-29.1}. Among services
     * of one name the newest wins (see {@link RewardModels#compareVersions(String, String)}).
     */
    String VERSION = "align4j.version";
    /** Service property: what the model judges, e.g. {@code helpfulness}, {@code correctness}. */
    String ASPECT = "align4j.aspect";

    /**
     * Scores a batch of texts.
     *
     * @return one outcome score per element of {@code batch}, in order, each finite; and, for a process (step-level)
     *         model, one array of step scores per element
     * @throws Exception when the batch cannot be scored; the message says what went wrong (the framework adds which
     *             model it was)
     */
    RewardScores score(List<PromptCompletion> batch) throws Exception;

    /**
     * Scores a batch given as token ids of the model's own tokenizer, without special tokens (the model adds the ones
     * it reads, e.g. end-of-text around the sequence). Saves a decode/encode round trip when the policy shares the
     * reward model's tokenizer. Learned models implement it; the default refuses.
     *
     * @param prompts one id array per element
     * @param completions one id array per element, as many as {@code prompts}
     * @throws UnsupportedOperationException when the model scores text only (the default)
     * @throws Exception as {@link #score(List)}
     */
    default RewardScores scoreTokens(List<int[]> prompts, List<int[]> completions) throws Exception {
        throw new UnsupportedOperationException("this reward model scores text");
    }
}
