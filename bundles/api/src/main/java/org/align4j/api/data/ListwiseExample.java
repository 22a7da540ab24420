package org.align4j.api.data;

import java.util.List;
import java.util.Objects;

/**
 * {@code {"prompt", "completions": [...], "ranking": [...]}}: at least two completions and their ranking, the indices
 * into {@code completions} best first (a permutation of {@code 0..n-1}).
 */
public final class ListwiseExample extends Example {
    private final Content prompt;
    private final List<Content> completions;
    private final int[] ranking;

    public ListwiseExample(String source, long line, Content prompt, List<Content> completions, int[] ranking) {
        super(source, line);
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.completions = List.copyOf(completions);
        this.ranking = ranking.clone();
        if (this.ranking.length != this.completions.size()) {
            throw new IllegalArgumentException(location() + ": " + this.ranking.length + " ranks for "
                    + this.completions.size() + " completions");
        }
    }

    public Content prompt() {
        return prompt;
    }

    public List<Content> completions() {
        return completions;
    }

    /** Indices into {@link #completions()}, best first (a copy). */
    public int[] ranking() {
        return ranking.clone();
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.LISTWISE;
    }
}
