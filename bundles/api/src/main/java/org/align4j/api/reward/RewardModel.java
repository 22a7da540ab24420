package org.align4j.api.reward;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Scores completions of prompts: higher is better. Registered with {@link RewardModelService}; trainers and
 * rescorers select one by name (and optionally version or aspect) and may swap it between batches while they run.
 */
@ConsumerType
public interface RewardModel {

    /** Service property: the name pipelines select the reward model by. */
    String NAME = "align4j.name";
    /** Service property: the version of the model's weights, e.g. {@code 2026-11-29.1}. */
    String VERSION = "align4j.version";
    /** Service property: what the model judges, e.g. {@code helpfulness}, {@code correctness}. */
    String ASPECT = "align4j.aspect";

    /**
     * @return one score per element of {@code batch}, in order
     */
    float[] score(List<PromptCompletion> batch);
}
