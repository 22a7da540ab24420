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
}
