package org.align4j.api.data;

import java.util.Objects;

/**
 * One typed example of a dataset, with the place it came from, so every later error can point at {@code file:line}.
 * The subclasses, one per {@link DatasetFormat}, are immutable.
 */
public abstract class Example {
    private final String source;
    private final long line;

    Example(String source, long line) {
        this.source = Objects.requireNonNull(source, "source");
        this.line = line;
    }

    /** The file the example came from. */
    public final String source() {
        return source;
    }

    /** 1-based line number in {@link #source()}. */
    public final long line() {
        return line;
    }

    /** {@code file:line} */
    public final String location() {
        return source + ":" + line;
    }

    /** The format this example is written in. */
    public abstract DatasetFormat format();
}
