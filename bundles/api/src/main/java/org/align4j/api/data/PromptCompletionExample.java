package org.align4j.api.data;

import java.util.Objects;

/**
 * {@code {"prompt": ..., "completion": ...}}: supervised fine-tuning trains on the completion only. Both are text, or
 * (conversational prompt-completion) both are lists of messages.
 */
public final class PromptCompletionExample extends Example {
    private final Content prompt;
    private final Content completion;

    public PromptCompletionExample(String source, long line, Content prompt, Content completion) {
        super(source, line);
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.completion = Objects.requireNonNull(completion, "completion");
    }

    public Content prompt() {
        return prompt;
    }

    public Content completion() {
        return completion;
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.PROMPT_COMPLETION;
    }
}
