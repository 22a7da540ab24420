package org.align4j.feedback;

import static org.align4j.api.loss.StepLabel.CORRECT;
import static org.align4j.api.loss.StepLabel.INCORRECT;
import static org.align4j.api.loss.StepLabel.NEUTRAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.task.Verdict;
import org.align4j.task.arithmetic.ArithmeticTask;
import org.junit.jupiter.api.Test;

/** The annotation rules on hand-made verdicts (and one from the real arithmetic verifier). */
class FeedbackRulesTest {

    static Verdict v(boolean correct, int... labels) {
        return new Verdict(correct, labels, correct ? "7" : "8", "7", correct ? "" : "wrong");
    }

    @Test
    void creditCountsCorrectStepsBeforeTheFirstIncorrectOnePlusTheAnswerBonus() {
        assertEquals(2 + 2.0, FeedbackRules.credit(v(true, CORRECT, CORRECT, INCORRECT, CORRECT), 2.0));
        assertEquals(2.0, FeedbackRules.credit(v(false, NEUTRAL, CORRECT, CORRECT), 2.0), "neutral counts nothing");
        assertEquals(0 + 2.0, FeedbackRules.credit(v(true, INCORRECT, CORRECT), 2.0), "a lucky answer: bonus only");
        assertEquals(2.0, FeedbackRules.credit(v(true), 2.0));
        assertEquals(0.0, FeedbackRules.credit(v(false), 2.0));
        assertEquals(3 + 0.5, FeedbackRules.credit(v(true, CORRECT, NEUTRAL, CORRECT, CORRECT), 0.5));
    }

    @Test
    void ratingsSpreadPartialCreditOverOneToFive() {
        assertEquals(5, FeedbackRules.rating(v(true, CORRECT, CORRECT, CORRECT)), "all right");
        assertEquals(1, FeedbackRules.rating(v(false, INCORRECT, CORRECT)), "wrong from the start");
        assertEquals(1, FeedbackRules.rating(v(false)), "no steps, no answer");
        assertEquals(3, FeedbackRules.rating(v(true, INCORRECT, CORRECT)), "right answer, wrong first step");
        assertEquals(3, FeedbackRules.rating(v(false, CORRECT, CORRECT, CORRECT)), "right steps, wrong answer");
        assertEquals(3, FeedbackRules.rating(v(true)), "a bare right answer");
        assertEquals(2, FeedbackRules.rating(v(false, CORRECT, CORRECT, INCORRECT, CORRECT)), "u = 1/4");
        assertEquals(4, FeedbackRules.rating(v(true, CORRECT, NEUTRAL)), "u = 3/4");
    }

    @Test
    void rankingIsByCreditBestFirstWithTiesInSamplingOrder() {
        assertArrayEquals(new int[] {1, 2, 0, 3}, FeedbackRules.ranking(new double[] {1, 3, 3, 0}));
        assertArrayEquals(new int[] {0, 1, 2}, FeedbackRules.ranking(new double[] {2, 2, 2}));
        assertTrue(FeedbackRules.informative(new double[] {1, 3, 3, 0}));
        assertFalse(FeedbackRules.informative(new double[] {2, 2, 2}));
    }

    @Test
    void listsTakeTheFirstCompletionOfEachCreditAndPairsTheFirstOfEachText() {
        assertArrayEquals(new int[] {0, 1, 3}, FeedbackRules.firstOfEachCredit(new double[] {3, 0, 3, 1, 0, 1}));
        assertArrayEquals(new int[] {0}, FeedbackRules.firstOfEachCredit(new double[] {2, 2}));
        assertArrayEquals(new int[] {0, 1, 3},
                FeedbackRules.firstOfEachText(List.of("A: 7", "A: 8", "A: 7", "A: 9", "A: 8")));
        assertArrayEquals(new double[] {0, 1}, FeedbackRules.at(new double[] {3, 0, 3, 1}, new int[] {1, 3}));
    }

    @Test
    void pairsAreEveryTwoCompletionsWithDifferentCreditsWithTheDifferenceAsMargin() {
        SplittableRandom r = new SplittableRandom(3);
        for (int round = 0; round < 200; round++) {
            int k = 2 + r.nextInt(6);
            double[] credits = new double[k];
            for (int i = 0; i < k; i++) {
                credits[i] = r.nextInt(4) + (r.nextBoolean() ? 2.0 : 0.0);
            }
            // the reference: every ordered (i, j) with more credit for i
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    if (credits[i] > credits[j]) {
                        expected.add(i + ">" + j + " (" + (credits[i] - credits[j]) + ")");
                    }
                }
            }
            List<String> got = new ArrayList<>();
            for (FeedbackRules.Pair p : FeedbackRules.pairs(credits)) {
                assertTrue(p.margin > 0);
                got.add(p.toString());
            }
            expected.sort(null);
            got.sort(null);
            assertEquals(expected, got, java.util.Arrays.toString(credits));
        }
    }

    @Test
    void processStepsAreTheStepLinesThenTheAnswerLineLabelledByTheAnswer() {
        FeedbackRules.Judged j = new FeedbackRules.Judged("1. 3+4=7, write 7\nA: 7", v(true, CORRECT), 2.0);
        assertEquals(List.of("1. 3+4=7, write 7", "A: 7"), j.steps);
        assertArrayEquals(new int[] {CORRECT, CORRECT}, j.labels);

        j = new FeedbackRules.Judged("1. a\nA: 5\nmore\n", v(false, INCORRECT), 2.0);
        assertEquals(List.of("1. a", "A: 5"), j.steps, "lines after the answer line are not steps");
        assertArrayEquals(new int[] {INCORRECT, INCORRECT}, j.labels);

        j = new FeedbackRules.Judged("1. x\n2. y\n", v(false, CORRECT, INCORRECT), 2.0);
        assertEquals(List.of("1. x", "2. y"), j.steps, "no answer line: the steps only");
        assertArrayEquals(new int[] {CORRECT, INCORRECT}, j.labels);

        j = new FeedbackRules.Judged("", v(false), 2.0);
        assertTrue(j.steps.isEmpty());
    }

    @Test
    void aRepeatedStepIsNeutralAndCountsNothingWithTheRealVerifier() {
        String prompt = "Q: 47+86=?\n";
        String completion = "1. 7+6=13, write 3 carry 1\n2. 7+6=13, write 3 carry 1\n3. 4+8+1=13, write 13\nA: 133";
        Verdict verdict = new ArithmeticTask().verify(prompt, completion);
        assertArrayEquals(new int[] {CORRECT, NEUTRAL, CORRECT}, verdict.stepLabels(), verdict.toString());
        FeedbackRules.Judged j = new FeedbackRules.Judged(completion, verdict, 2.0);
        assertEquals(2 + 2.0, j.credit);
        assertEquals(4, j.rating, "u = (2/3 + 1) / 2");
        assertArrayEquals(new int[] {CORRECT, NEUTRAL, CORRECT, CORRECT}, j.labels);
        assertEquals("A: 133", j.steps.get(3));
    }
}
