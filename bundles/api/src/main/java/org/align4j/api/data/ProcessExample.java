package org.align4j.api.data;

import java.util.List;
import java.util.Objects;

/**
 * {@code {"prompt", "completions": [step, ...], "labels": [...]}}: a reasoning path and one label per step, as the int
 * constants of {@link org.align4j.api.loss.StepLabel} ({@code CORRECT}, {@code NEUTRAL}, {@code INCORRECT}). In the
 * file a label is {@code true}, {@code false} or {@code null} (neutral), or the string {@code "correct"},
 * {@code "incorrect"} or {@code "neutral"}.
 */
public final class ProcessExample extends Example {
    private final String prompt;
    private final List<String> steps;
    private final int[] labels;

    public ProcessExample(String source, long line, String prompt, List<String> steps, int[] labels) {
        super(source, line);
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.steps = List.copyOf(steps);
        this.labels = labels.clone();
        if (this.labels.length != this.steps.size()) {
            throw new IllegalArgumentException(location() + ": " + this.labels.length + " labels for "
                    + this.steps.size() + " steps");
        }
    }

    public String prompt() {
        return prompt;
    }

    /** The steps, in order (the {@code completions} field). */
    public List<String> steps() {
        return steps;
    }

    /** One {@link org.align4j.api.loss.StepLabel} constant per step (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.PROCESS;
    }
}
