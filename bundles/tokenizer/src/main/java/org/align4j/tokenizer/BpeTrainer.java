package org.align4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.LongConsumer;

/**
 * Trains byte-level BPE merges.
 *
 * <p>Ids: the 256 byte tokens first, id = byte value; then the special tokens in the order given; then one id per
 * new token, in the order the merges create them. Because of that order, and because the merges are chosen greedily,
 * a tokenizer trained on the same corpus with a larger vocabulary extends one trained with a smaller one.
 *
 * <p>Algorithm: the corpus is cut into pieces ({@link PreTokenizer}) and each distinct piece is counted. Then, until
 * the vocabulary has {@code vocabSize} tokens: take the adjacent pair of tokens with the highest count (summed over
 * pieces, weighted by each piece's frequency); stop if that count is below {@code minFrequency}; otherwise add the
 * concatenation as a token (reusing its id if two different pairs spell the same bytes) and replace the pair,
 * left to right, in every piece that contains it. Pair counts are kept up to date incrementally: only the pieces
 * that contain the merged pair are visited, and only the pairs next to each replaced occurrence change.
 *
 * <p>Ties are broken deterministically: of pairs with equal counts, the one with the smaller left token id wins, then
 * the smaller right token id. Nothing depends on hash order, so the same corpus and settings give the same merges on
 * every machine.
 *
 * <p>A merge whose result would spell a special token's content is refused (that pair is skipped), so text can never
 * produce a special token and the vocabulary has no two entries with one string.
 */
final class BpeTrainer {

    /** Progress is reported after every this many merges (and at the end). */
    static final int PROGRESS_EVERY = 64;

    private BpeTrainer() {
    }

    static BpeTokenizer train(Iterable<String> corpus, int vocabSize, int minFrequency, List<String> specialTokens,
            LongConsumer progress) {
        // 1. Count the pieces.
        Map<String, long[]> pieceCounts = new HashMap<>();
        for (String doc : corpus) {
            if (doc == null) {
                continue;
            }
            for (String piece : PreTokenizer.split(doc)) {
                pieceCounts.computeIfAbsent(piece, k -> new long[1])[0]++;
            }
        }
        String[] pieces = pieceCounts.keySet().toArray(new String[0]);
        Arrays.sort(pieces);
        int nWords = pieces.length;
        int[][] words = new int[nWords][];
        int[] lengths = new int[nWords];
        long[] freqs = new long[nWords];
        for (int w = 0; w < nWords; w++) {
            byte[] b = ByteLevel.utf8(pieces[w]);
            int[] s = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                s[i] = b[i] & 0xFF;
            }
            words[w] = s;
            lengths[w] = s.length;
            freqs[w] = pieceCounts.get(pieces[w])[0];
        }
        pieceCounts = null;

        // 2. The initial vocabulary: bytes, then special tokens.
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            String t = String.valueOf(ByteLevel.charOf(b));
            tokens.add(t);
            ids.put(t, b);
        }
        int[] specialIds = new int[specialTokens.size()];
        for (int i = 0; i < specialIds.length; i++) {
            specialIds[i] = tokens.size();
            ids.put(specialTokens.get(i), tokens.size());
            tokens.add(specialTokens.get(i));
        }

        // 3. Pair counts and where each pair occurs.
        LongLongMap counts = new LongLongMap(1 << 12);
        Map<Long, IntList> where = new HashMap<>();
        for (int w = 0; w < nWords; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < lengths[w]; i++) {
                long p = LongLongMap.pair(s[i], s[i + 1]);
                counts.add(p, freqs[w]);
                where.computeIfAbsent(p, k -> new IntList()).addOnce(w);
            }
        }
        PriorityQueue<long[]> queue = new PriorityQueue<>(Math.max(16, where.size()), BpeTrainer::compare);
        for (Long p : where.keySet()) {
            queue.add(new long[] {counts.get(p, 0), p});
        }

        // 4. Merge.
        List<int[]> merges = new ArrayList<>();
        int[] seen = new int[nWords];
        Arrays.fill(seen, -1);
        while (tokens.size() < vocabSize && !queue.isEmpty()) {
            long[] top = queue.poll();
            long pair = top[1];
            long count = counts.get(pair, 0);
            if (count != top[0]) {
                continue; // stale: a newer entry holds the current count
            }
            if (count < minFrequency || count <= 0) {
                break; // the best remaining pair is too rare
            }
            int left = LongLongMap.left(pair);
            int right = LongLongMap.right(pair);
            String merged = tokens.get(left) + tokens.get(right);
            Integer existing = ids.get(merged);
            if (existing != null && existing >= 256 && existing < 256 + specialIds.length) {
                continue; // would spell a special token: refused, the pair stays unmerged
            }
            int newId;
            if (existing != null) {
                newId = existing;
            } else {
                newId = tokens.size();
                tokens.add(merged);
                ids.put(merged, newId);
            }
            int rank = merges.size();
            merges.add(new int[] {left, right, newId});

            IntList occurrences = where.remove(pair);
            LongLongMap changed = new LongLongMap(64);
            for (int k = 0; k < occurrences.size; k++) {
                int w = occurrences.data[k];
                if (seen[w] == rank) {
                    continue;
                }
                seen[w] = rank;
                lengths[w] = mergeWord(words[w], lengths[w], left, right, newId, freqs[w], w, counts, where, changed);
            }
            changed.forEachKey(p -> {
                long c = counts.get(p, 0);
                if (c > 0) {
                    queue.add(new long[] {c, p});
                }
            });
            if (merges.size() % PROGRESS_EVERY == 0) {
                progress.accept(merges.size());
            }
        }
        progress.accept(merges.size());

        String[] vocab = tokens.toArray(new String[0]);
        boolean[] special = new boolean[vocab.length];
        for (int id : specialIds) {
            special[id] = true;
        }
        return new BpeTokenizer(vocab, special, specialIds, merges.toArray(new int[0][]));
    }

    /** Higher count first; then smaller left id; then smaller right id (the packed pair compares that way). */
    private static int compare(long[] a, long[] b) {
        int c = Long.compare(b[0], a[0]);
        return c != 0 ? c : Long.compare(a[1], b[1]);
    }

    /**
     * Replaces each occurrence of {@code (a, b)} in {@code s[0..len)}, left to right, by {@code c}; updates the pair
     * counts by {@code freq} per change and records the new pairs' occurrence in word {@code w}.
     *
     * @return the new length
     */
    private static int mergeWord(int[] s, int len, int a, int b, int c, long freq, int w, LongLongMap counts,
            Map<Long, IntList> where, LongLongMap changed) {
        int out = 0;
        for (int i = 0; i < len; ) {
            if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                if (out > 0) { // the token before: already written, possibly a fresh c
                    int before = s[out - 1];
                    change(counts, changed, LongLongMap.pair(before, a), -freq);
                    long p = LongLongMap.pair(before, c);
                    change(counts, changed, p, freq);
                    where.computeIfAbsent(p, k -> new IntList()).addOnce(w);
                }
                if (i + 2 < len) {
                    int after = s[i + 2];
                    change(counts, changed, LongLongMap.pair(b, after), -freq);
                    long p = LongLongMap.pair(c, after);
                    change(counts, changed, p, freq);
                    where.computeIfAbsent(p, k -> new IntList()).addOnce(w);
                }
                change(counts, changed, LongLongMap.pair(a, b), -freq);
                s[out++] = c;
                i += 2;
            } else {
                s[out++] = s[i++];
            }
        }
        return out;
    }

    private static void change(LongLongMap counts, LongLongMap changed, long pair, long delta) {
        counts.add(pair, delta);
        changed.putIfAbsent(pair, 0);
    }

    /** A growable list of word indices; {@link #addOnce} skips a repeat of the last one added. */
    private static final class IntList {
        int[] data = new int[4];
        int size;

        void addOnce(int v) {
            if (size > 0 && data[size - 1] == v) {
                return;
            }
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }
}
