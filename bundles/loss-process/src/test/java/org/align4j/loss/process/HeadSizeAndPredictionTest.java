package org.align4j.loss.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.pipeline.Settings;
import org.junit.jupiter.api.Test;

/** Each process loss says how many logits a step needs and which label a step's logits stand for, as it reads them. */
class HeadSizeAndPredictionTest {
    private static final Settings NONE = Settings.of("p.yaml", Map.of());
    private static final Settings IGNORE = Settings.of("p.yaml", Map.of("neutral", "ignore"));

    @Test
    void threeClassLossesTakeTheMostLikelyClass() {
        StepCrossEntropyLoss ce = new StepCrossEntropyLoss();
        assertEquals(StepLabel.COUNT, ce.classes(NONE));
        assertEquals(StepLabel.INCORRECT, ce.predict(new float[] {0.1f, -2f, 0.3f}, NONE));
        assertEquals(StepLabel.NEUTRAL, ce.predict(new float[] {0.1f, 2f, 0.3f}, NONE));
        OutcomeCrossEntropyLoss outcome = new OutcomeCrossEntropyLoss();
        assertEquals(StepLabel.COUNT, outcome.classes(NONE));
        assertEquals(StepLabel.CORRECT, outcome.predict(new float[] {3f, 2f, 0.3f}, NONE));
    }

    @Test
    void twoClassLossesCompareTheFirstLogitWithTheLast() {
        StepBinaryCrossEntropyLoss binary = new StepBinaryCrossEntropyLoss();
        assertEquals(2, binary.classes(NONE));
        assertEquals(StepLabel.CORRECT, binary.predict(new float[] {1f, 0.5f}, NONE));
        assertEquals(StepLabel.INCORRECT, binary.predict(new float[] {0.2f, 9f, 0.5f}, NONE)); // 3 logits: middle unused
        OutcomeCrossEntropyLoss outcome = new OutcomeCrossEntropyLoss();
        assertEquals(2, outcome.classes(IGNORE));
        assertEquals(StepLabel.INCORRECT, outcome.predict(new float[] {-1f, 1f}, IGNORE));
    }

    @Test
    void theSingleLogitIsCorrectWhenPositive() {
        StepSigmoidCrossEntropyLoss single = new StepSigmoidCrossEntropyLoss();
        assertEquals(1, single.classes(NONE));
        assertEquals(StepLabel.CORRECT, single.predict(new float[] {0.01f}, NONE));
        assertEquals(StepLabel.INCORRECT, single.predict(new float[] {-0.01f}, NONE));
    }
}
