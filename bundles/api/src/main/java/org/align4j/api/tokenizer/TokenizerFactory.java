package org.align4j.api.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Trains and loads one type of tokenizer, registered with {@code align4j.name} = its type (e.g. {@code bpe}).
 */
@ConsumerType
public interface TokenizerFactory {

    /** Service property: the tokenizer type. */
    String NAME = "align4j.name";

    /**
     * Trains on {@code corpus}. Settings: {@code vocab} (the target vocabulary size, special tokens included) and
     * the factory's own keys.
     *
     * @param progress receives the number of merges (or other units of work) done so far; may be a no-op
     */
    Tokenizer train(Iterable<String> corpus, Settings settings, LongConsumer progress);

    /** Loads a Hugging Face {@code tokenizer.json}; fails naming the file and the field on anything it cannot read. */
    Tokenizer load(Path file) throws IOException;

    /**
     * Loads like {@link #load(Path)}, passing what the file got away with (e.g. a UTF-8 byte order mark) to
     * {@code warnings}, one message a call, each naming the file. The default calls {@link #load(Path)} and warns of
     * nothing.
     */
    default Tokenizer load(Path file, Consumer<String> warnings) throws IOException {
        return load(file);
    }

    /**
     * Checks {@code settings} (unknown keys, types, ranges) the way {@link #train} will read them, so a pipeline can
     * reject a bad file before anything runs. The default accepts everything.
     */
    default void validate(Settings settings) {
    }
}
