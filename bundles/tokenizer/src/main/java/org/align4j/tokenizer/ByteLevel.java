package org.align4j.tokenizer;

/**
 * GPT-2's byte-to-unicode table: every byte value is shown as one printable character, so byte-level tokens are
 * ordinary (JSON-safe, whitespace-free) strings. The table is derived from its definition: the bytes that are
 * printable in Latin-1 ({@code '!'..'~'}, {@code '¡'..'¬'}, {@code '®'..'ÿ'}) stand for themselves; the other 68 bytes,
 * in increasing order, become {@code U+0100, U+0101, ...} (so the space 0x20 is {@code 'Ġ'} U+0120 and the newline
 * 0x0A is {@code 'Ċ'} U+010A). This is the table Hugging Face's {@code ByteLevel} pre-tokenizer uses.
 */
final class ByteLevel {

    /** One more than the largest character the table uses (U+0143). */
    private static final int CHAR_LIMIT = 256 + 68;

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[CHAR_LIMIT];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            char c = printable(b) ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** Whether byte {@code b} is one of GPT-2's printable Latin-1 bytes, which stand for themselves. */
    static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The character that stands for byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte {@code c} stands for, or -1 when {@code c} is not in the table. */
    static int byteOf(char c) {
        return c < CHAR_LIMIT ? CHAR_TO_BYTE[c] : -1;
    }

    /** The byte-level string of {@code bytes[from..to)}. */
    static String encode(byte[] bytes, int from, int to) {
        char[] cs = new char[to - from];
        for (int i = from; i < to; i++) {
            cs[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(cs);
    }

    /** The bytes of a byte-level string, or {@code null} when a character is not in the table. */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < out.length; i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** Index of the first character of {@code token} outside the table, or -1. */
    static int firstForeign(String token) {
        for (int i = 0; i < token.length(); i++) {
            if (byteOf(token.charAt(i)) < 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * UTF-8 bytes of {@code s}. A lone surrogate (a {@code char} in {@code U+D800..U+DFFF} without its partner) is not
     * a character and has no UTF-8 form; it is written as U+FFFD, the replacement character, as every UTF-8 encoder
     * that does not fail must do.
     */
    static byte[] utf8(String s) {
        byte[] out = new byte[s.length() * 3];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            if (cp < 0x80) {
                out[n++] = (byte) cp;
            } else if (cp < 0x800) {
                out[n++] = (byte) (0xC0 | (cp >>> 6));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[n++] = (byte) (0xE0 | (cp >>> 12));
                out[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[n++] = (byte) (0xF0 | (cp >>> 18));
                out[n++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
                out[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
