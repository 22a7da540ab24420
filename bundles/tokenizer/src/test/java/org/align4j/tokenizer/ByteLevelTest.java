package org.align4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ByteLevelTest {

    @Test
    void tableIsABijectionOntoPrintableCharacters() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.charOf(b);
            assertTrue(seen.add(c), "byte " + b + " shares its character");
            assertEquals(b, ByteLevel.byteOf(c));
            assertFalse(Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c),
                    "byte " + b + " maps to a non-printable character U+" + Integer.toHexString(c));
        }
        assertEquals(256, seen.size());
    }

    @Test
    void knownEntriesOfGpt2Table() {
        // Printable Latin-1 stands for itself.
        assertEquals('a', ByteLevel.charOf('a'));
        assertEquals('!', ByteLevel.charOf('!'));
        assertEquals('~', ByteLevel.charOf('~'));
        assertEquals('\u00A1', ByteLevel.charOf(0xA1));
        assertEquals('\u00FF', ByteLevel.charOf(0xFF));
        // The other 68 bytes in order from U+0100: 0x00..0x20 are the first 33.
        assertEquals('\u0100', ByteLevel.charOf(0x00));
        assertEquals('\u010A', ByteLevel.charOf('\n')); // 'Ċ' as in GPT-2's vocab
        assertEquals('\u0120', ByteLevel.charOf(' ')); // 'Ġ'
        assertEquals('\u0121', ByteLevel.charOf(0x7F)); // 34th: DEL
        assertEquals('\u0142', ByteLevel.charOf(0xA0)); // 67th: NBSP (0x7F..0xA0 are 34 bytes)
        assertEquals('\u0143', ByteLevel.charOf(0xAD)); // 68th and last: soft hyphen
        assertEquals(-1, ByteLevel.byteOf('\u0144'));
        assertEquals(-1, ByteLevel.byteOf(' '));
    }

    @Test
    void utf8MatchesTheJdkForValidStringsAndReplacesLoneSurrogates() {
        String[] samples = {"", "abc", "é", "日本語", "😀 x", "a\u0301", "\u0000\uFFFF", "\uD83D\uDE00"};
        for (String s : samples) {
            assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), ByteLevel.utf8(s), s);
        }
        assertArrayEquals("a\uFFFDb\uFFFD".getBytes(StandardCharsets.UTF_8), ByteLevel.utf8("a\uD800b\uDC00"));
    }

    @Test
    void byteLevelStringsRoundTrip() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        String s = ByteLevel.encode(all, 0, 256);
        assertArrayEquals(all, ByteLevel.decode(s));
        assertNull(ByteLevel.decode("a b"));
        assertEquals(1, ByteLevel.firstForeign("a b"));
    }
}
