package org.align4j.api.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A trained tokenizer. {@code decode(encode(s)).equals(s)} for every string {@code s} (byte-level tokenizers cover
 * all of UTF-8). Special tokens are never produced by {@link #encode} from ordinary text.
 */
@ConsumerType
public interface Tokenizer {

    /** Token ids of {@code text}, without special tokens. */
    int[] encode(String text);

    /** The text of {@code ids}; special tokens decode to nothing. */
    String decode(int[] ids);

    int vocabSize();

    /** The end-of-text token, appended after each document when a corpus is packed. */
    int eosId();

    /** The padding token (may equal {@link #eosId()}); padded positions are masked out of every loss. */
    int padId();

    /** The tokenizer's type, e.g. {@code bpe}: the {@code align4j.name} of the factory that loads it. */
    String type();

    /** Writes the tokenizer as a Hugging Face {@code tokenizer.json} (temporary file, then rename). */
    void save(Path file) throws IOException;
}
