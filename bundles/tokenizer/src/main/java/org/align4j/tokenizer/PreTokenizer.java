package org.align4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's pre-tokenisation, as Hugging Face's {@code ByteLevel} pre-tokenizer does it with {@code use_regex = true}
 * and {@code add_prefix_space = false}: the text is cut into the matches of
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * with Unicode semantics for {@code \s} (every White_Space character, as Oniguruma and Python's {@code regex} have
 * it). Every character falls into some match, so the pieces concatenate to the text; any stretch the pattern did
 * not match would still be kept as a piece of its own. BPE merges never cross a piece.
 */
final class PreTokenizer {

    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern PATTERN = Pattern.compile(GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    private PreTokenizer() {
    }

    /** The pieces of {@code text}, in order. */
    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PATTERN.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                out.add(text.substring(last, m.start()));
            }
            out.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            out.add(text.substring(last));
        }
        return out;
    }
}
