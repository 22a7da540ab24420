package org.align4j.api.reward;

import java.util.Objects;

/** A prompt and one completion of it. */
public final class PromptCompletion {
    private final String prompt;
    private final String completion;

    public PromptCompletion(String prompt, String completion) {
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.completion = Objects.requireNonNull(completion, "completion");
    }

    public String prompt() {
        return prompt;
    }

    public String completion() {
        return completion;
    }

    /**
     * The steps of a completion as a process reward model (or one scored by its steps) reads them: its lines, split
     * at {@code '\n'}, a final empty piece from a trailing newline dropped; a completion without lines is one empty
     * step. The stage that trains such a model and the service that scores with it both use this.
     *
     * @since 2.1
     */
    public static java.util.List<String> steps(String completion) {
        java.util.List<String> out = new java.util.ArrayList<>(java.util.List.of(completion.split("\n", -1)));
        if (out.size() > 1 && out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }
}
