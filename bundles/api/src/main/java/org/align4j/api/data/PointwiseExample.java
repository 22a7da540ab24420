package org.align4j.api.data;

import java.util.Objects;

/** {@code {"prompt", "completion", "score"}}: one completion and its score (a finite number). */
public final class PointwiseExample extends Example {
    private final Content prompt;
    private final Content completion;
    private final double score;

    public PointwiseExample(String source, long line, Content prompt, Content completion, double score) {
        super(source, line);
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.completion = Objects.requireNonNull(completion, "completion");
        if (!Double.isFinite(score)) {
            throw new IllegalArgumentException(location() + ": score " + score + " is not finite");
        }
        this.score = score;
    }

    public Content prompt() {
        return prompt;
    }

    public Content completion() {
        return completion;
    }

    public double score() {
        return score;
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.POINTWISE;
    }
}
