package org.align4j.api.data;

import java.util.Objects;

/** {@code {"text": "..."}}: a document. */
public final class TextExample extends Example {
    private final String text;

    public TextExample(String source, long line, String text) {
        super(source, line);
        this.text = Objects.requireNonNull(text, "text");
    }

    public String text() {
        return text;
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.TEXT;
    }
}
