package org.align4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.junit.jupiter.api.Test;

class CollatorImplTest {
    private static final int PAD = 0;

    private final CollatorImpl collator = new CollatorImpl();

    private static TokenSequence seq(int[] prompt, int[] completion) {
        return TokenSequence.of(prompt, completion);
    }

    @Test
    void padsRightWithMasks() {
        TokenBatch b = collator.collate(List.of(seq(new int[] {5, 6}, new int[] {7}),
                seq(new int[] {8}, new int[] {9, 10, 11, 12}), seq(new int[] {}, new int[] {13})), 16, PAD);
        assertEquals(3, b.rows());
        assertEquals(5, b.length()); // the longest row
        assertFalse(b.pairs());
        assertArrayEquals(new int[] {
            5, 6, 7, PAD, PAD,
            8, 9, 10, 11, 12,
            13, PAD, PAD, PAD, PAD}, b.tokens());
        assertArrayEquals(new int[] {
            1, 1, 1, 0, 0,
            1, 1, 1, 1, 1,
            1, 0, 0, 0, 0}, b.attentionMask());
        assertArrayEquals(new float[] {
            0, 0, 1, 0, 0,
            0, 1, 1, 1, 1,
            1, 0, 0, 0, 0}, b.lossMask());
        assertArrayEquals(new int[] {3, 5, 1}, b.lengths());
        assertArrayEquals(new int[] {0, 1, 2}, b.examples());
        assertEquals(0, b.truncated());
        assertEquals(0, b.dropped());
        assertEquals(12, b.token(1, 4));
        assertEquals(0, b.attention(2, 1));
        assertEquals(1f, b.loss(1, 1));
    }

    @Test
    void longPromptsLoseTheirStartAndTooLongCompletionsAreDropped() {
        TokenBatch b = collator.collate(List.of(
                seq(new int[] {1, 2, 3, 4}, new int[] {5, 6}), // 6 > 4: cut 1, 2 (prompt): [3, 4, 5, 6]
                seq(new int[] {7}, new int[] {8, 9, 10, 11, 12}), // 6 > 4: would cut the loss token 8: dropped
                seq(new int[] {12, 13}, new int[] {14})), 4, -1); // fits
        assertEquals(2, b.rows());
        assertEquals(4, b.length());
        assertArrayEquals(new int[] {3, 4, 5, 6, 12, 13, 14, -1}, b.tokens());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 0}, b.attentionMask());
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 0}, b.lossMask());
        assertArrayEquals(new int[] {4, 3}, b.lengths());
        assertArrayEquals(new int[] {0, 2}, b.examples()); // row -> input index
        assertEquals(1, b.truncated());
        assertEquals(1, b.dropped());
    }

    @Test
    void pairsStackChosenThenRejected() {
        List<TokenSequence> chosen = List.of(seq(new int[] {1, 2}, new int[] {3}),
                seq(new int[] {4}, new int[] {5, 6}), seq(new int[] {7}, new int[] {8}));
        List<TokenSequence> rejected = List.of(seq(new int[] {1, 2}, new int[] {9, 9, 9}),
                seq(new int[] {4}, new int[] {10}), seq(new int[] {7}, new int[] {11, 12, 13, 14, 15, 16}));
        TokenBatch b = collator.collatePairs(chosen, rejected, 5, PAD);
        // Pair 2's rejected (7 tokens) cannot fit without cutting a loss token: the whole pair goes.
        assertTrue(b.pairs());
        assertEquals(4, b.rows()); // 2B, B = 2
        assertEquals(5, b.length());
        assertArrayEquals(new int[] {
            1, 2, 3, PAD, PAD, // chosen 0
            4, 5, 6, PAD, PAD, // chosen 1
            1, 2, 9, 9, 9, // rejected 0
            4, 10, PAD, PAD, PAD}, b.tokens()); // rejected 1
        assertArrayEquals(new int[] {
            1, 1, 1, 0, 0,
            1, 1, 1, 0, 0,
            1, 1, 1, 1, 1,
            1, 1, 0, 0, 0}, b.attentionMask());
        assertArrayEquals(new float[] {
            0, 0, 1, 0, 0,
            0, 1, 1, 0, 0,
            0, 0, 1, 1, 1,
            0, 1, 0, 0, 0}, b.lossMask());
        assertArrayEquals(new int[] {3, 3, 5, 2}, b.lengths());
        assertArrayEquals(new int[] {0, 1, 0, 1}, b.examples());
        assertEquals(1, b.dropped());
        assertEquals(0, b.truncated());
    }

    /** The batch, checked element by element against rows built one at a time as int[][] in this test. */
    @Test
    void randomBatchesMatchARowByRowReference() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rnd.nextInt(6);
            int max = 1 + rnd.nextInt(10);
            List<TokenSequence> chosen = new ArrayList<>();
            List<TokenSequence> rejected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                chosen.add(random(rnd));
                rejected.add(random(rnd));
            }
            // Reference: keep a pair when both fit after dropping leading non-loss tokens.
            List<int[]> rowsIds = new ArrayList<>();
            List<boolean[]> rowsMask = new ArrayList<>();
            List<int[]> rejIds = new ArrayList<>();
            List<boolean[]> rejMask = new ArrayList<>();
            List<Integer> kept = new ArrayList<>();
            int truncated = 0;
            for (int i = 0; i < n; i++) {
                int[][] c = fit(chosen.get(i), max);
                int[][] r = fit(rejected.get(i), max);
                if (c == null || r == null) {
                    continue;
                }
                kept.add(i);
                truncated += c[0].length < chosen.get(i).length() ? 1 : 0;
                truncated += r[0].length < rejected.get(i).length() ? 1 : 0;
                rowsIds.add(c[0]);
                rowsMask.add(toBool(c[1]));
                rejIds.add(r[0]);
                rejMask.add(toBool(r[1]));
            }
            rowsIds.addAll(rejIds);
            rowsMask.addAll(rejMask);
            int t = rowsIds.stream().mapToInt(a -> a.length).max().orElse(0);
            TokenBatch b = collator.collatePairs(chosen, rejected, max, -3);
            assertEquals(rowsIds.size(), b.rows());
            assertEquals(t, b.length());
            assertEquals(n - kept.size(), b.dropped());
            assertEquals(truncated, b.truncated());
            for (int row = 0; row < b.rows(); row++) {
                int[] ids = rowsIds.get(row);
                assertEquals(ids.length, b.lengths()[row]);
                assertEquals(kept.get(row % kept.size()), b.examples()[row]);
                for (int j = 0; j < t; j++) {
                    boolean real = j < ids.length;
                    assertEquals(real ? ids[j] : -3, b.token(row, j));
                    assertEquals(real ? 1 : 0, b.attention(row, j));
                    assertEquals(real && rowsMask.get(row)[j] ? 1f : 0f, b.loss(row, j));
                }
            }
        }
    }

    private static TokenSequence random(Random rnd) {
        int p = rnd.nextInt(8);
        int c = 1 + rnd.nextInt(5);
        int[] prompt = rnd.ints(p, 1, 100).toArray();
        int[] completion = rnd.ints(c, 1, 100).toArray();
        return TokenSequence.of(prompt, completion);
    }

    /** {ids, mask as 0/1} of the last {@code max} tokens, or null when a loss token would be cut. */
    private static int[][] fit(TokenSequence s, int max) {
        int[] ids = s.ids();
        boolean[] mask = s.lossMask();
        int from = Math.max(0, ids.length - max);
        for (int i = 0; i < from; i++) {
            if (mask[i]) {
                return null;
            }
        }
        int[] outIds = java.util.Arrays.copyOfRange(ids, from, ids.length);
        int[] outMask = new int[outIds.length];
        for (int i = 0; i < outIds.length; i++) {
            outMask[i] = mask[from + i] ? 1 : 0;
        }
        return new int[][] {outIds, outMask};
    }

    private static boolean[] toBool(int[] a) {
        boolean[] out = new boolean[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] == 1;
        }
        return out;
    }

    @Test
    void badArgumentsSaySo() {
        TokenSequence s = seq(new int[] {1}, new int[] {2});
        assertEquals("max length: expected at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> collator.collate(List.of(s), 0, PAD)).getMessage());
        assertEquals("2 chosen but 1 rejected sequences; a preference batch needs one of each per pair",
                assertThrows(IllegalArgumentException.class,
                        () -> collator.collatePairs(List.of(s, s), List.of(s), 4, PAD)).getMessage());
        assertEquals("3 token ids but 2 loss-mask entries", assertThrows(IllegalArgumentException.class,
                () -> new TokenSequence(new int[] {1, 2, 3}, new boolean[2])).getMessage());
        // An empty input gives an empty batch.
        TokenBatch empty = collator.collate(List.of(), 4, PAD);
        assertEquals(0, empty.rows());
        assertEquals(0, empty.length());
    }

    @Test
    void batchesAreImmutable() {
        TokenBatch b = collator.collate(List.of(seq(new int[] {1}, new int[] {2})), 4, PAD);
        b.tokens()[0] = 99;
        b.lossMask()[0] = 5f;
        assertEquals(1, b.token(0, 0));
        assertEquals(0f, b.loss(0, 0));
    }
}
