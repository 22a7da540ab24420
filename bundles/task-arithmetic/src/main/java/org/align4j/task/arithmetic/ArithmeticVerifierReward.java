package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.List;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelService;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.task.Verdict;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code arithmetic-verifier} reward model (aspect {@code correctness}): scores a completion of an arithmetic
 * prompt ({@code "Q: 47*36=?\n"}) 1 when its final answer line is right and 0 otherwise (wrong, missing or unreadable
 * answer, or a prompt that is not an arithmetic problem), whatever its steps: the outcome reward of
 * {@link Verifier}.
 *
 * <p>It is also a process reward: {@link RewardScores#steps()} holds one score per step line (every line before the
 * answer line, as {@link Verifier} reads them) from the verifier's step labels: 1 for {@link StepLabel#CORRECT}, 0.5
 * for {@link StepLabel#NEUTRAL} (a true repeat that adds nothing), 0 for {@link StepLabel#INCORRECT}. A completion
 * without steps has an empty array.
 */
@Component(service = RewardModel.class)
@RewardModelService(name = "arithmetic-verifier", aspect = "correctness")
public final class ArithmeticVerifierReward implements RewardModel {

    /** The step score of a neutral step: between right and wrong. */
    static final float NEUTRAL_SCORE = 0.5f;

    @Override
    public RewardScores score(List<PromptCompletion> batch) {
        float[] scores = new float[batch.size()];
        List<float[]> steps = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            PromptCompletion pc = batch.get(i);
            Verdict v = Verifier.verify(pc.prompt(), pc.completion());
            scores[i] = v.correct() ? 1f : 0f;
            int[] labels = v.stepLabels();
            float[] s = new float[labels.length];
            for (int j = 0; j < labels.length; j++) {
                s[j] = labels[j] == StepLabel.CORRECT ? 1f : labels[j] == StepLabel.NEUTRAL ? NEUTRAL_SCORE : 0f;
            }
            steps.add(s);
        }
        return RewardScores.withSteps(scores, steps);
    }
}
