package org.align4j.api.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What {@link StructuredDatasets#read} read from one file: its format, the typed examples, the malformed lines it
 * skipped (when told to skip rather than fail), each as {@code file:line: field "x": what is wrong}, and warnings
 * about the file as a whole (such as fields no format reads), for the pipeline to print.
 */
public final class Examples {
    private final String source;
    private final DatasetFormat format;
    private final List<Example> examples;
    private final List<String> skipped;
    private final List<String> warnings;

    public Examples(String source, DatasetFormat format, List<? extends Example> examples, List<String> skipped,
            List<String> warnings) {
        this.source = Objects.requireNonNull(source, "source");
        this.format = Objects.requireNonNull(format, "format");
        this.examples = List.copyOf(examples);
        this.skipped = List.copyOf(skipped);
        this.warnings = List.copyOf(warnings);
        for (Example e : this.examples) {
            if (e.format() != format) {
                throw new IllegalArgumentException(e.location() + ": a " + e.format() + " example in a " + format
                        + " dataset");
            }
        }
    }

    /** The file read. */
    public String source() {
        return source;
    }

    /** The format the file was read as (given or detected). */
    public DatasetFormat format() {
        return format;
    }

    /** The examples, in file order. */
    public List<Example> examples() {
        return examples;
    }

    /**
     * The examples as {@code type}, e.g. {@code as(PairwiseExample.class)}; fails (naming both formats) when the file
     * holds another format.
     */
    public <T extends Example> List<T> as(Class<T> type) {
        if (!type.isAssignableFrom(format.exampleType())) {
            throw new DataException(source, 0, "expected a dataset of " + type.getSimpleName() + "s, but the file is "
                    + "in the " + format + " format; give a " + formatOf(type) + " dataset");
        }
        List<T> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(type.cast(e));
        }
        return out;
    }

    private static String formatOf(Class<?> type) {
        for (DatasetFormat f : DatasetFormat.values()) {
            if (f.exampleType() == type) {
                return f.trlName();
            }
        }
        return type.getSimpleName();
    }

    /** The malformed lines skipped, each as {@code file:line: what is wrong}; their count is the skipped count. */
    public List<String> skipped() {
        return skipped;
    }

    /** Warnings about the file (at most one of each kind per file), each starting with the file name. */
    public List<String> warnings() {
        return warnings;
    }
}
