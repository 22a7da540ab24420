package org.align4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Random strings and corpora for the tests. */
final class RandomText {
    private RandomText() {
    }

    private static final int[][] POOLS = {
        range(0x20, 0x7E), // ASCII printable
        range(0x4E00, 0x4FFF), // CJK
        range(0x1F600, 0x1F64F), // emoji (supplementary: surrogate pairs in Java)
        range(0x0300, 0x036F), // combining marks
        {' ', ' ', ' ', '\t', '\n', '\r', 0xA0, 0x3000, 0x2028, 0x85}, // whitespace runs
        range(0xC0, 0xFF), // Latin-1 letters
        {'\'', 's', 't', 'l', 'm', 'd', 'r', 'e', 'v'}, // contraction material
        range('0', '9'),
        {0x0660, 0x00B2, 0x2160, 0xFF10, 0x10348}, // other numbers and a Gothic letter
    };

    private static int[] range(int from, int to) {
        int[] r = new int[to - from + 1];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    /** A valid (surrogate-free apart from pairs) string of up to {@code maxLen} code points from mixed scripts. */
    static String string(SplittableRandom rnd, int maxLen) {
        int n = rnd.nextInt(maxLen + 1);
        StringBuilder b = new StringBuilder();
        while (n-- > 0) {
            int[] pool = POOLS[rnd.nextInt(POOLS.length)];
            int runs = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(5) : 1; // sometimes a run from the same pool
            for (int k = 0; k < runs; k++) {
                b.appendCodePoint(pool[rnd.nextInt(pool.length)]);
            }
        }
        return b.toString();
    }

    private static final String[] SYLLABLES = {"the", "an", "re", "in", "on", "er", "ka", "lo", "mi", "st", "ing",
        "ed", "pro", "tion", "al", "ver", "sa", "to", "un", "der"};

    /** {@code lines} short lines of made-up words with Zipf-like syllable use, numbers and punctuation. */
    static List<String> corpus(long seed, int lines) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(lines);
        for (int i = 0; i < lines; i++) {
            StringBuilder b = new StringBuilder();
            int words = 3 + rnd.nextInt(10);
            for (int w = 0; w < words; w++) {
                if (w > 0) {
                    b.append(' ');
                }
                if (rnd.nextInt(12) == 0) {
                    b.append(rnd.nextInt(1000));
                    continue;
                }
                int syl = 1 + rnd.nextInt(3);
                for (int s = 0; s < syl; s++) {
                    int k = (int) Math.floor(Math.pow(rnd.nextDouble(), 2) * SYLLABLES.length);
                    b.append(SYLLABLES[k]);
                }
            }
            b.append(rnd.nextInt(4) == 0 ? "?" : ".");
            out.add(b.toString());
        }
        return out;
    }
}
