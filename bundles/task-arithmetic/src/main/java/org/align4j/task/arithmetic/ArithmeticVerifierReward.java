package org.align4j.task.arithmetic;

import java.util.List;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelService;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code arithmetic-verifier} reward model (aspect {@code correctness}): scores a completion of an arithmetic
 * prompt ({@code "Q: 47*36=?\n"}) 1 when its final answer line is right and 0 otherwise (wrong, missing or unreadable
 * answer, or a prompt that is not an arithmetic problem), whatever its steps: the outcome reward of
 * {@link Verifier}. Step labels for process supervision come from {@link ArithmeticTask#verify}.
 */
@Component(service = RewardModel.class)
@RewardModelService(name = "arithmetic-verifier", aspect = "correctness")
public final class ArithmeticVerifierReward implements RewardModel {

    @Override
    public float[] score(List<PromptCompletion> batch) {
        float[] scores = new float[batch.size()];
        for (int i = 0; i < scores.length; i++) {
            PromptCompletion pc = batch.get(i);
            scores[i] = Verifier.verify(pc.prompt(), pc.completion()).correct() ? 1f : 0f;
        }
        return scores;
    }
}
