package org.align4j.api.task;

import java.util.Arrays;
import java.util.Objects;

import org.align4j.api.loss.StepLabel;

/**
 * What a {@link Task} found in one completion. Immutable.
 *
 * <ul>
 * <li>{@link #correct()}: the final answer equals the expected one (steps do not count: outcome supervision);</li>
 * <li>{@link #stepLabels()}: one label per line before the final-answer line ({@link StepLabel#CORRECT},
 * {@link StepLabel#NEUTRAL} or {@link StepLabel#INCORRECT}: 0, 1, 2) under the task's documented rule (process
 * supervision);</li>
 * <li>{@link #answer()}: the final answer as the completion wrote it, empty if it has none;</li>
 * <li>{@link #expected()}: the right answer, empty if the prompt is not one of the task's problems;</li>
 * <li>{@link #reason()}: the first thing wrong, with its line ({@code line 2: "4+3=7, write 7": ...}), empty when
 * every step is right and none is missing and the answer is right.</li>
 * </ul>
 */
public final class Verdict {
    private final boolean correct;
    private final int[] stepLabels;
    private final String answer;
    private final String expected;
    private final String reason;

    /** @throws IllegalArgumentException if a step label is not one of {@link StepLabel}'s */
    public Verdict(boolean correct, int[] stepLabels, String answer, String expected, String reason) {
        this.correct = correct;
        this.stepLabels = stepLabels.clone();
        for (int label : this.stepLabels) {
            if (label < 0 || label >= StepLabel.COUNT) {
                throw new IllegalArgumentException("step labels are 0, 1 or 2 (StepLabel), got "
                        + Arrays.toString(stepLabels));
            }
        }
        this.answer = Objects.requireNonNull(answer, "answer");
        this.expected = Objects.requireNonNull(expected, "expected");
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Whether the final answer is right. */
    public boolean correct() {
        return correct;
    }

    /** One label per step line, in order (a copy). */
    public int[] stepLabels() {
        return stepLabels.clone();
    }

    /** The final answer the completion gave; empty if none could be read. */
    public String answer() {
        return answer;
    }

    /** The right final answer; empty if the prompt could not be read. */
    public String expected() {
        return expected;
    }

    /** The first problem found; empty if there is none. */
    public String reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Verdict)) {
            return false;
        }
        Verdict v = (Verdict) o;
        return correct == v.correct && Arrays.equals(stepLabels, v.stepLabels) && answer.equals(v.answer)
                && expected.equals(v.expected) && reason.equals(v.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(correct, Arrays.hashCode(stepLabels), answer, expected, reason);
    }

    @Override
    public String toString() {
        return (correct ? "correct" : "wrong") + " answer=" + answer + " expected=" + expected + " steps="
                + Arrays.toString(stepLabels) + (reason.isEmpty() ? "" : " (" + reason + ")");
    }
}
