package org.align4j.api.data;

import java.io.IOException;
import java.nio.file.Path;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Reads a dataset file into {@link Record}s, registered with {@code align4j.name} = the format ({@code jsonl},
 * {@code text}). Settings: {@code skip_malformed} (default false: the first malformed line fails the read with
 * {@code file:line: what is wrong}; true: such lines are skipped and listed in {@link ReadResult#skipped()}),
 * {@code field} (the text field of a JSONL corpus, default {@code text}) and the reader's own keys.
 */
@ConsumerType
public interface DatasetReader {

    /** Service property: the format name. */
    String NAME = "align4j.name";

    ReadResult read(Path file, Settings settings) throws IOException;

    /**
     * Checks {@code settings} (unknown keys, types, ranges) the way {@link #read} will read them, so a pipeline can
     * reject a bad file before anything runs. The default accepts everything.
     */
    default void validate(Settings settings) {
    }
}
