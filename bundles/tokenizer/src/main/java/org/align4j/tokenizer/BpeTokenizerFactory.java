package org.align4j.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.tokenizer.TokenizerService;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code bpe} tokenizer type: byte-level BPE as GPT-2 and Hugging Face's {@code ByteLevelBPETokenizer} have it.
 *
 * <p>Training settings (a pipeline's {@code data.tokenizer} section):
 * <ul>
 * <li>{@code vocab}: the vocabulary size to reach, counting the 256 byte tokens and the special tokens (default
 * 512, at least 256 + the number of special tokens: 264 with the default list). Training stops earlier when no
 * pair of tokens occurs {@code min_frequency} times any more.</li>
 * <li>{@code min_frequency}: the fewest occurrences a pair needs to be merged (default 2, at least 1).</li>
 * <li>{@code special_tokens}: a list of names (default {@code ["<|endoftext|>", "<|bos|>", "<|pad|>",
 * "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|step|>"]}, see {@link SpecialTokens}); the first is
 * end-of-text, the others take the role of their default content ({@code <|pad|>} is padding; without it padding is
 * end-of-text). They get the ids 256, 257, ... right after the byte tokens; merged tokens follow. (Before special
 * tokens had roles the default was {@code ["<|endoftext|>"]}; files trained so load as before, with id 256 as
 * end-of-text and padding, and without chat markers.)</li>
 * </ul>
 * The merge order and tie-breaking are described in {@link BpeTrainer}; {@link #load} and {@link Tokenizer#save}
 * use Hugging Face's {@code tokenizer.json} (see {@link TokenizerJson}).
 */
@Component(service = TokenizerFactory.class)
@TokenizerService(name = BpeTokenizer.TYPE)
public final class BpeTokenizerFactory implements TokenizerFactory {

    static final String VOCAB = "vocab";
    static final String MIN_FREQUENCY = "min_frequency";
    static final String SPECIAL_TOKENS = "special_tokens";
    static final List<String> DEFAULT_SPECIALS = List.copyOf(SpecialTokens.defaultContents().values());

    /** The training settings, checked as they are read. */
    private static final class Params {
        final List<String> specials;
        final int vocab;
        final int minFrequency;

        Params(Settings settings) {
            settings.checkKnown(VOCAB, MIN_FREQUENCY, SPECIAL_TOKENS);
            specials = specialTokens(settings);
            vocab = settings.getInt(VOCAB, 512);
            int least = 256 + specials.size();
            if (vocab < least) {
                throw settings.error(VOCAB, "expected at least " + least + " (the 256 byte tokens and "
                        + specials.size() + " special token" + (specials.size() == 1 ? "" : "s") + "), got " + vocab
                        + "; a useful vocabulary is larger still, e.g. 512 to 8192");
            }
            minFrequency = settings.getInt(MIN_FREQUENCY, 2);
            if (minFrequency < 1) {
                throw settings.error(MIN_FREQUENCY, "expected a whole number of at least 1, got " + minFrequency);
            }
        }
    }

    @Override
    public void validate(Settings settings) {
        new Params(settings);
    }

    @Override
    public Tokenizer train(Iterable<String> corpus, Settings settings, LongConsumer progress) {
        Params p = new Params(settings);
        List<String> specials = p.specials;
        int vocab = p.vocab;
        int minFrequency = p.minFrequency;
        return BpeTrainer.train(corpus, vocab, minFrequency, specials, progress == null ? n -> { } : progress);
    }

    private static List<String> specialTokens(Settings settings) {
        if (!settings.has(SPECIAL_TOKENS)) {
            return DEFAULT_SPECIALS;
        }
        Object v = settings.asMap().get(SPECIAL_TOKENS);
        if (!(v instanceof List)) {
            throw settings.error(SPECIAL_TOKENS, "expected a list of names, e.g. [\"<|endoftext|>\"], got "
                    + (v instanceof String ? "\"" + v + "\"" : String.valueOf(v)));
        }
        List<?> list = (List<?>) v;
        if (list.isEmpty()) {
            throw settings.error(SPECIAL_TOKENS, "expected at least one name (the first is end-of-text), got []");
        }
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object e = list.get(i);
            String at = SPECIAL_TOKENS + "[" + i + "]";
            if (!(e instanceof String) || ((String) e).isEmpty()) {
                throw settings.error(at, "expected a non-empty name, got " + (e == null ? "nothing" : "\"" + e + "\""));
            }
            String s = (String) e;
            if (s.length() == 1 && ByteLevel.byteOf(s.charAt(0)) >= 0) {
                throw settings.error(at, "\"" + s + "\" is the byte-level token of byte "
                        + String.format("0x%02X", ByteLevel.byteOf(s.charAt(0)))
                        + "; give the special token a name of its own, e.g. <|pad|>");
            }
            if (!seen.add(s)) {
                throw settings.error(at, "\"" + s + "\" is listed twice");
            }
            out.add(s);
        }
        return out;
    }

    @Override
    public Tokenizer load(Path file) throws IOException {
        return TokenizerJson.read(file, w -> { });
    }

    @Override
    public Tokenizer load(Path file, Consumer<String> warnings) throws IOException {
        return TokenizerJson.read(file, warnings == null ? w -> { } : warnings);
    }
}
