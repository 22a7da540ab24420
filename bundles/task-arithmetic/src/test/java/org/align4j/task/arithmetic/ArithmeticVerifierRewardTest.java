package org.align4j.task.arithmetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.task.TaskExample;
import org.junit.jupiter.api.Test;

class ArithmeticVerifierRewardTest {

    private final ArithmeticVerifierReward reward = new ArithmeticVerifierReward();

    @Test
    void oneForARightFinalAnswerZeroOtherwise() {
        String p = "Q: 47*36=?\n";
        RewardScores result = reward.score(List.of(
                new PromptCompletion(p, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692"),
                new PromptCompletion(p, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1690"),
                new PromptCompletion(p, "1. 47*6=283\nA: 1692"), // wrong step, right answer: outcome only
                new PromptCompletion(p, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692"),
                new PromptCompletion(p, ""),
                new PromptCompletion(p, "\u0000\uffff garbage"),
                new PromptCompletion("not a problem", "A: 1692")));
        assertArrayEquals(new float[] {1, 0, 1, 0, 0, 0, 0}, result.scores());
        assertEquals(0, reward.score(List.of()).scores().length);
    }

    /** One step score per line before the answer line: 1 right, 0.5 a repeat, 0 wrong; an answer alone has none. */
    @Test
    void stepScoresFollowTheStepLabels() {
        String p = "Q: 47*36=?\n";
        RewardScores result = reward.score(List.of(
                new PromptCompletion(p, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692"),
                new PromptCompletion(p, "1. 47*6=283\n2. 47*30=1410\nA: 1692"),
                new PromptCompletion(p, "1. 47*6=282\n2. 47*6=282\n3. nonsense"),
                new PromptCompletion(p, "A: 1692"),
                new PromptCompletion("not a problem", "1. 47*6=282\nA: 1")));
        List<float[]> steps = result.steps().orElseThrow();
        assertEquals(5, steps.size());
        assertArrayEquals(new float[] {1, 1, 1}, steps.get(0));
        assertArrayEquals(new float[] {0, 1}, steps.get(1));
        assertArrayEquals(new float[] {1, 0.5f, 0}, steps.get(2));
        assertArrayEquals(new float[0], steps.get(3));
        assertArrayEquals(new float[] {0}, steps.get(4));
        assertArrayEquals(new float[] {1, 1, 0, 1, 0}, result.scores());
    }

    /** The score of every generated worked answer is 1; with its answer off by one it is 0. */
    @Test
    void generatedAnswersScoreOne() {
        List<TaskExample> examples = new ArithmeticTask().generate(Settings.of("t", new HashMap<>(java.util.Map.of(
                "count", 500, "difficulty", "hard"))), 4);
        List<PromptCompletion> batch = new ArrayList<>();
        for (TaskExample e : examples) {
            batch.add(new PromptCompletion(e.prompt(), e.completion()));
            String wrong = Long.toString(Long.parseLong(e.answer()) + 1);
            batch.add(new PromptCompletion(e.prompt(), e.completion().replace("A: " + e.answer(), "A: " + wrong)));
        }
        float[] scores = reward.score(batch).scores();
        for (int i = 0; i < scores.length; i++) {
            assertEquals(i % 2 == 0 ? 1f : 0f, scores[i], batch.get(i).completion());
        }
    }
}
