package org.align4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.align4j.api.data.TextDatasets;
import org.junit.jupiter.api.Test;

class TextDatasetsImplTest {

    private final TextDatasets tools = new TextDatasetsImpl();

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().collect(Collectors.toList());
    }

    @Test
    void splitMix64MatchesItsPublishedReferenceSequence() {
        // splitmix64.c seeded with 1234567: the first five outputs (unsigned), as published with the algorithm.
        SplitMix64 r = new SplitMix64(1234567);
        String[] expected = {"6457827717110365317", "3203168211198807973", "9817491932198370423",
            "4593380528125082431", "16408922859458223821"};
        for (String e : expected) {
            assertEquals(Long.parseUnsignedLong(e), r.nextLong());
        }
    }

    @Test
    void nextIntIsInRangeAndRoughlyUniform() {
        SplitMix64 r = new SplitMix64(9);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[r.nextInt(7)]++;
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000) < 500, java.util.Arrays.toString(counts)); // ~5 sigma
        }
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
    }

    @Test
    void shuffleIsADeterministicPermutation() {
        List<Integer> items = range(1000);
        List<Integer> a = tools.shuffle(items, 42);
        List<Integer> b = tools.shuffle(items, 42);
        List<Integer> c = tools.shuffle(items, 43);
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertNotEquals(items, a);
        assertEquals(new HashSet<>(items), new HashSet<>(a));
        assertEquals(1000, a.size());
        assertEquals(range(1000), items); // the input is untouched
        assertEquals(List.of(), tools.shuffle(List.of(), 1));
        assertEquals(List.of("x"), tools.shuffle(List.of("x"), 1));
    }

    @Test
    void shuffleIsFisherYatesDrivenBySplitMix64() {
        // Independent restatement of the documented algorithm, with the reference generator written out here.
        List<Integer> items = range(50);
        List<Integer> expected = new ArrayList<>(items);
        long[] state = {77};
        for (int i = expected.size() - 1; i > 0; i--) {
            int j;
            while (true) {
                long z = (state[0] += 0x9E3779B97F4A7C15L);
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                long u = (z ^ (z >>> 31)) >>> 1;
                long bound = i + 1;
                if (u - u % bound + bound - 1 >= 0) {
                    j = (int) (u % bound);
                    break;
                }
            }
            Integer t = expected.get(i);
            expected.set(i, expected.get(j));
            expected.set(j, t);
        }
        assertEquals(expected, tools.shuffle(items, 77));
    }

    @Test
    void shuffleIsUnbiasedOverAllOrders() {
        // Each of the 6 orders of three items should come up about equally often over many seeds.
        java.util.Map<List<Integer>, Integer> counts = new java.util.HashMap<>();
        for (long seed = 0; seed < 6000; seed++) {
            counts.merge(tools.shuffle(List.of(0, 1, 2), seed), 1, Integer::sum);
        }
        assertEquals(6, counts.size());
        for (int c : counts.values()) {
            assertTrue(Math.abs(c - 1000) < 150, counts.toString()); // ~5 sigma
        }
    }

    @Test
    void splitSizesDisjointnessAndDeterminism() {
        List<Integer> items = range(1000);
        TextDatasets.Split<Integer> s = tools.split(items, 0.05, 7);
        assertEquals(50, s.validation().size());
        assertEquals(950, s.train().size());
        Set<Integer> all = new HashSet<>(s.train());
        all.addAll(s.validation());
        assertEquals(new HashSet<>(items), all); // disjoint and complete
        TextDatasets.Split<Integer> again = tools.split(items, 0.05, 7);
        assertEquals(s.train(), again.train());
        assertEquals(s.validation(), again.validation());
        assertNotEquals(s.validation(), tools.split(items, 0.05, 8).validation());
        // The validation part is the head of the seeded shuffle.
        assertEquals(tools.shuffle(items, 7).subList(0, 50), s.validation());

        assertEquals(3, tools.split(range(10), 0.25, 1).validation().size()); // round(2.5) = 3
        assertEquals(1, tools.split(range(10), 0.01, 1).validation().size()); // at least one
        assertEquals(0, tools.split(range(10), 0.0, 1).validation().size());
        // n = 1: the formula alone decides (no minimum of one): round(0.4) = 0, round(0.5) = 1.
        assertEquals(List.of(0), tools.split(range(1), 0.4, 1).train());
        assertEquals(List.of(), tools.split(range(1), 0.4, 1).validation());
        assertEquals(List.of(0), tools.split(range(1), 0.5, 1).validation());
        assertEquals(10, tools.split(range(10), 1.0, 1).validation().size());
        assertThrows(IllegalArgumentException.class, () -> tools.split(items, 1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> tools.split(items, Double.NaN, 1));
    }

    @Test
    void packMatchesAHandComputation() {
        // Stream: 1 2 3 E 4 5 E 6 7 8 9 E  (E = 0), 12 tokens; L = 3: rows start at 0, 3, 6; (12 - 1) / 3 = 3 rows.
        List<int[]> docs = List.of(new int[] {1, 2, 3}, new int[] {4, 5}, new int[] {6, 7, 8, 9});
        int[][] rows = tools.pack(docs, 3, 0);
        assertArrayEquals(new int[][] {
            {1, 2, 3, 0},
            {0, 4, 5, 0},
            {0, 6, 7, 8},
        }, rows);
        // L = 5: (12 - 1) / 5 = 2 rows: stream[0..5], stream[5..10]; the tail "E" is dropped.
        assertArrayEquals(new int[][] {
            {1, 2, 3, 0, 4, 5},
            {5, 0, 6, 7, 8, 9},
        }, tools.pack(docs, 5, 0));
        // L = 11 takes the whole stream in one row; L = 12 has too few tokens.
        assertArrayEquals(new int[][] {{1, 2, 3, 0, 4, 5, 0, 6, 7, 8, 9, 0}}, tools.pack(docs, 11, 0));
        assertEquals(0, tools.pack(docs, 12, 0).length);
        // Empty documents still contribute their end-of-text token: stream 9 9 5 9, L = 1 -> 3 rows.
        assertArrayEquals(new int[][] {{9, 9}, {9, 5}, {5, 9}},
                tools.pack(List.of(new int[0], new int[0], new int[] {5}), 1, 9));
        assertEquals(0, tools.pack(List.of(), 4, 0).length);
        assertThrows(IllegalArgumentException.class, () -> tools.pack(docs, 0, 0));
    }

    @Test
    void packAgreesWithTheDefinitionOnRandomInput() {
        SplitMix64 r = new SplitMix64(5);
        for (int trial = 0; trial < 50; trial++) {
            List<int[]> docs = new ArrayList<>();
            List<Integer> stream = new ArrayList<>();
            int nDocs = r.nextInt(20);
            for (int d = 0; d < nDocs; d++) {
                int[] doc = new int[r.nextInt(15)];
                for (int i = 0; i < doc.length; i++) {
                    doc[i] = 1 + r.nextInt(1000);
                    stream.add(doc[i]);
                }
                stream.add(-1);
                docs.add(doc);
            }
            int L = 1 + r.nextInt(10);
            int[][] rows = tools.pack(docs, L, -1);
            int expectedRows = 0;
            while ((expectedRows + 1) * L + 1 <= stream.size()) { // row k needs stream[k*L .. k*L + L]
                expectedRows++;
            }
            assertEquals(expectedRows, rows.length);
            for (int k = 0; k < rows.length; k++) {
                assertEquals(L + 1, rows[k].length);
                for (int c = 0; c <= L; c++) {
                    assertEquals(stream.get(k * L + c), rows[k][c]);
                }
            }
        }
    }
}
