package org.align4j.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Which positions predict which tokens, on two small rows written out by hand. */
class LikelihoodInputsTest {

    @Test
    void nextTokensAreEachRowShiftedLeft() {
        int[] tokens = {5, 6, 7, 8, /**/ 9, 1, 2, 0};
        assertArrayEquals(new int[] {6, 7, 8, 0, /**/ 1, 2, 0, 0}, LikelihoodInputs.nextTokens(tokens, 2, 4));
    }

    @Test
    void eachStepMarksThePositionsBeforeItsTokens() {
        // row 0: prompt 0..1, step 0 = tokens 2..3 (separator 4), step 1 = token 5 (separator 6)
        // row 1: step 0 starts at 0 (its first token is never predicted), separator 2; no second step
        float[] mark = LikelihoodInputs.stepTokens(2, 2, 7, new int[] {2, 0}, List.of(new int[] {4, 6},
                new int[] {2}));
        assertArrayEquals(new float[] {
            0, 1, 1, 0, 0, 0, 0, // row 0, step 0: positions 1, 2 predict tokens 2, 3
            0, 0, 0, 0, 1, 0, 0, // row 0, step 1: position 4 predicts token 5
            1, 0, 0, 0, 0, 0, 0, // row 1, step 0: position 0 predicts token 1
            0, 0, 0, 0, 0, 0, 0}, // row 1, step 1: none
            mark);
    }
}
