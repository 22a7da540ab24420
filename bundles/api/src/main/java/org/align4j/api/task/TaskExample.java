package org.align4j.api.task;

import java.util.List;
import java.util.Objects;

/**
 * One generated problem with its worked answer: {@code completion} is the {@code steps} and then the final-answer
 * line, joined by {@link Task#STEP_SEPARATOR}; {@code answer} is the final answer alone (e.g. {@code 1692}).
 * Immutable.
 */
public final class TaskExample {
    private final String prompt;
    private final String completion;
    private final String answer;
    private final List<String> steps;

    /**
     * @throws IllegalArgumentException if {@code completion} does not start with the steps, each followed by
     *             {@link Task#STEP_SEPARATOR}
     */
    public TaskExample(String prompt, String completion, String answer, List<String> steps) {
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.completion = Objects.requireNonNull(completion, "completion");
        this.answer = Objects.requireNonNull(answer, "answer");
        this.steps = List.copyOf(steps);
        String head = this.steps.isEmpty() ? "" : String.join(Task.STEP_SEPARATOR, this.steps) + Task.STEP_SEPARATOR;
        if (!completion.startsWith(head)) {
            throw new IllegalArgumentException("the completion does not start with the steps: " + completion);
        }
    }

    /** What the model is asked, e.g. {@code "Q: 47*36=?\n"}. */
    public String prompt() {
        return prompt;
    }

    /** The worked answer: steps, then the final-answer line. */
    public String completion() {
        return completion;
    }

    /** The final answer, e.g. {@code "1692"}. */
    public String answer() {
        return answer;
    }

    /** The step lines of {@link #completion()}, in order, without separators. */
    public List<String> steps() {
        return steps;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TaskExample)) {
            return false;
        }
        TaskExample e = (TaskExample) o;
        return prompt.equals(e.prompt) && completion.equals(e.completion) && answer.equals(e.answer)
                && steps.equals(e.steps);
    }

    @Override
    public int hashCode() {
        return Objects.hash(prompt, completion, answer, steps);
    }

    @Override
    public String toString() {
        return prompt + completion;
    }
}
