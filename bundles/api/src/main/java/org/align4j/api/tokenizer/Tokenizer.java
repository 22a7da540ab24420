package org.align4j.api.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A trained tokenizer. {@code decode(encode(s)).equals(s)} for every string {@code s} (byte-level tokenizers cover
 * all of UTF-8). Special tokens are never produced by {@link #encode} from ordinary text.
 *
 * <p><b>Special tokens and Hugging Face.</b> Hugging Face's {@code tokenizers} library splits the contents of added
 * tokens out of the input text by default: there, {@code encode("<|user|>")} gives the id of the special token
 * {@code <|user|>}. align4j does not: text a user typed is always ordinary text, so a literal {@code <|user|>} in a
 * dataset becomes ordinary byte tokens and can never forge a role marker. Special ids enter a sequence only where code
 * puts them on purpose ({@link ChatTemplate}, {@link #eosId()} after a document). For any text that does not contain
 * a special token's content, both give the same ids; {@link ChatTemplate#renderText} gives the text on which Hugging
 * Face produces the same ids as {@link ChatTemplate#render}.
 */
@ConsumerType
public interface Tokenizer {

    /**
     * Token ids of {@code text}, without special tokens: text that spells a special token's content (e.g.
     * {@code <|endoftext|>}) is encoded as ordinary text (Hugging Face would give the special id; see above).
     */
    int[] encode(String text);

    /** The text of {@code ids}; special tokens decode to nothing. */
    String decode(int[] ids);

    int vocabSize();

    /** The end-of-text token, appended after each document when a corpus is packed. */
    int eosId();

    /** The padding token (may equal {@link #eosId()}); padded positions are masked out of every loss. */
    int padId();

    /**
     * The special tokens by role ({@link SpecialTokens#EOS}, {@link SpecialTokens#USER}, ...). The default knows only
     * {@link #eosId()} and {@link #padId()}, without their contents; align4j's tokenizers know all they have.
     */
    default SpecialTokens specialTokens() {
        return SpecialTokens.of(Map.of(SpecialTokens.EOS, eosId(), SpecialTokens.PAD, padId()), Map.of());
    }

    /**
     * The beginning-of-text token, if the tokenizer has one (one trained with a {@code special_tokens} list without
     * it has none).
     */
    default OptionalInt bosId() {
        return specialTokens().id(SpecialTokens.BOS);
    }

    /**
     * The id of the special token whose content is exactly {@code content} (e.g. {@code "<|user|>"}), if there is
     * one. This is the only way from a special token's text to its id: {@link #encode} never gives it. The default
     * searches {@link #specialTokens()}.
     */
    default OptionalInt specialTokenId(String content) {
        SpecialTokens s = specialTokens();
        for (Map.Entry<String, String> e : s.contents().entrySet()) {
            if (e.getValue().equals(content)) {
                return s.id(e.getKey());
            }
        }
        return OptionalInt.empty();
    }

    /** The tokenizer's type, e.g. {@code bpe}: the {@code align4j.name} of the factory that loads it. */
    String type();

    /** Writes the tokenizer as a Hugging Face {@code tokenizer.json} (temporary file, then rename). */
    void save(Path file) throws IOException;
}
