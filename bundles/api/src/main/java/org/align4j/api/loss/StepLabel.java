package org.align4j.api.loss;

/** The class indices of step labels in a {@link ProcessLoss}. */
public final class StepLabel {
    /** The step is correct. */
    public static final int CORRECT = 0;
    /** The step neither helps nor harms. */
    public static final int NEUTRAL = 1;
    /** The step is wrong. */
    public static final int INCORRECT = 2;
    /** How many classes a step is labelled with. */
    public static final int COUNT = 3;

    private StepLabel() {
    }
}
