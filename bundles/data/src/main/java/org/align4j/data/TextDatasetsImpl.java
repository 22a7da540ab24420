package org.align4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

import org.align4j.api.data.TextDatasets;
import org.osgi.service.component.annotations.Component;

/**
 * Split, shuffle and pack, as {@link TextDatasets} specifies them.
 *
 * <p>Shuffle: Fisher–Yates from the last position down ({@code for i = n-1 .. 1: swap(i, nextInt(i + 1))}) driven by
 * {@link SplitMix64} seeded with {@code seed}; both algorithms are fixed here, so the order is the same on every JVM
 * and machine. Split: the first {@code round(fraction * n)} items of {@code shuffle(items, seed)} (at least one when
 * {@code fraction > 0} and {@code n > 1}) are the validation part, the rest are train, in shuffled order.
 */
@Component(service = TextDatasets.class)
public final class TextDatasetsImpl implements TextDatasets {

    @Override
    public <T> Split<T> split(List<T> items, double validationFraction, long seed) {
        Objects.requireNonNull(items, "items");
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("validation fraction: expected a number in [0, 1], got "
                    + validationFraction);
        }
        List<T> shuffled = shuffle(items, seed);
        int n = shuffled.size();
        int validation = (int) Math.round(validationFraction * n);
        if (validationFraction > 0 && n > 1) {
            validation = Math.max(1, validation);
        }
        return new Split<>(shuffled.subList(validation, n), shuffled.subList(0, validation));
    }

    @Override
    public <T> List<T> shuffle(List<T> items, long seed) {
        List<T> out = new ArrayList<>(Objects.requireNonNull(items, "items"));
        SplitMix64 rnd = new SplitMix64(seed);
        for (int i = out.size() - 1; i > 0; i--) {
            Collections.swap(out, i, rnd.nextInt(i + 1));
        }
        return out;
    }

    @Override
    public int[][] pack(List<int[]> documents, int blockLength, int eosId) {
        Objects.requireNonNull(documents, "documents");
        if (blockLength < 1) {
            throw new IllegalArgumentException("block length: expected at least 1, got " + blockLength);
        }
        long total = 0;
        for (int i = 0; i < documents.size(); i++) {
            int[] doc = documents.get(i);
            if (doc == null) {
                throw new NullPointerException("documents[" + i + "] is null");
            }
            total += doc.length + 1;
        }
        // Row r holds stream[r*L .. r*L + L]: rows need r*L + L <= total - 1.
        long rows = total == 0 ? 0 : (total - 1) / blockLength;
        if (rows * (blockLength + 1L) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("packing " + total + " tokens into rows of " + (blockLength + 1)
                    + " makes too large an array; pack the corpus in parts");
        }
        int[][] out = new int[(int) rows][blockLength + 1];
        if (rows == 0) {
            return out;
        }
        // Walk the stream once; each token lands in the row it starts in, and a row's first token is also the last
        // token of the row before.
        long pos = 0;
        for (int[] doc : documents) {
            for (int t = 0; t <= doc.length; t++) {
                int token = t < doc.length ? doc[t] : eosId;
                place(out, rows, blockLength, pos++, token);
            }
        }
        return out;
    }

    private static void place(int[][] out, long rows, int blockLength, long pos, int token) {
        long r = pos / blockLength;
        int c = (int) (pos % blockLength);
        if (r < rows) {
            out[(int) r][c] = token;
        }
        if (c == 0 && r > 0 && r - 1 < rows) {
            out[(int) r - 1][blockLength] = token;
        }
    }
}
