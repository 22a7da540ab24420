package org.align4j.api.data;

import java.util.Objects;
import java.util.OptionalDouble;

/**
 * {@code {"prompt", "chosen", "rejected"[, "margin"]}}: {@code chosen} is preferred to {@code rejected}, by
 * {@code margin} when given (a finite number). Prompt and completions are all text or all lists of messages; a record
 * without a prompt (TRL's implicit prompt) has the prompt {@code ""}.
 */
public final class PairwiseExample extends Example {
    private final Content prompt;
    private final Content chosen;
    private final Content rejected;
    private final OptionalDouble margin;

    public PairwiseExample(String source, long line, Content prompt, Content chosen, Content rejected,
            OptionalDouble margin) {
        super(source, line);
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.chosen = Objects.requireNonNull(chosen, "chosen");
        this.rejected = Objects.requireNonNull(rejected, "rejected");
        this.margin = Objects.requireNonNull(margin, "margin");
    }

    public Content prompt() {
        return prompt;
    }

    public Content chosen() {
        return chosen;
    }

    public Content rejected() {
        return rejected;
    }

    /** The margin by which {@code chosen} is preferred; empty when the record gives none. */
    public OptionalDouble margin() {
        return margin;
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.PAIRWISE;
    }
}
