package org.align4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.align4j.api.data.Collator;
import org.align4j.api.data.TokenBatch;
import org.align4j.api.data.TokenSequence;
import org.osgi.service.component.annotations.Component;

/**
 * Right-padded batches, as {@link Collator} specifies: a sequence over {@code maxLength} loses its leading tokens when
 * none of them counts in the loss (the start of the prompt), and is dropped otherwise.
 */
@Component(service = Collator.class)
public final class CollatorImpl implements Collator {

    /** The first token a sequence keeps: 0 when it fits, -1 when it cannot fit without cutting a loss token. */
    static int start(TokenSequence s, int maxLength) {
        int cut = s.length() - maxLength;
        if (cut <= 0) {
            return 0;
        }
        for (int i = 0; i < cut; i++) {
            if (s.inLoss(i)) {
                return -1;
            }
        }
        return cut;
    }

    @Override
    public TokenBatch collate(List<TokenSequence> sequences, int maxLength, int padId) {
        Objects.requireNonNull(sequences, "sequences");
        checkMax(maxLength);
        List<TokenSequence> kept = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < sequences.size(); i++) {
            TokenSequence s = item(sequences, "sequences", i);
            int start = start(s, maxLength);
            if (start >= 0) {
                kept.add(s);
                starts.add(start);
                index.add(i);
            }
        }
        return build(kept, starts, index, sequences.size() - kept.size(), padId, false);
    }

    @Override
    public TokenBatch collatePairs(List<TokenSequence> chosen, List<TokenSequence> rejected, int maxLength,
            int padId) {
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
        checkMax(maxLength);
        if (chosen.size() != rejected.size()) {
            throw new IllegalArgumentException(chosen.size() + " chosen but " + rejected.size()
                    + " rejected sequences; a preference batch needs one of each per pair");
        }
        List<TokenSequence> keptChosen = new ArrayList<>();
        List<TokenSequence> keptRejected = new ArrayList<>();
        List<Integer> startChosen = new ArrayList<>();
        List<Integer> startRejected = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            TokenSequence c = item(chosen, "chosen", i);
            TokenSequence r = item(rejected, "rejected", i);
            int sc = start(c, maxLength);
            int sr = start(r, maxLength);
            if (sc >= 0 && sr >= 0) {
                keptChosen.add(c);
                keptRejected.add(r);
                startChosen.add(sc);
                startRejected.add(sr);
                index.add(i);
            }
        }
        List<TokenSequence> rows = new ArrayList<>(keptChosen);
        rows.addAll(keptRejected);
        List<Integer> starts = new ArrayList<>(startChosen);
        starts.addAll(startRejected);
        List<Integer> rowIndex = new ArrayList<>(index);
        rowIndex.addAll(index);
        return build(rows, starts, rowIndex, chosen.size() - index.size(), padId, true);
    }

    private static TokenSequence item(List<TokenSequence> list, String name, int i) {
        TokenSequence s = list.get(i);
        if (s == null) {
            throw new NullPointerException(name + "[" + i + "] is null");
        }
        return s;
    }

    private static void checkMax(int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length: expected at least 1, got " + maxLength);
        }
    }

    private static TokenBatch build(List<TokenSequence> rows, List<Integer> starts, List<Integer> rowIndex,
            int dropped, int padId, boolean pairs) {
        int b = rows.size();
        int t = 0;
        int truncated = 0;
        int[] lengths = new int[b];
        for (int r = 0; r < b; r++) {
            lengths[r] = rows.get(r).length() - starts.get(r);
            t = Math.max(t, lengths[r]);
            truncated += starts.get(r) > 0 ? 1 : 0;
        }
        int[] tokens = new int[b * t]; // [B, T]
        int[] attention = new int[b * t]; // [B, T]
        float[] loss = new float[b * t]; // [B, T]
        int[] examples = new int[b]; // [B]
        java.util.Arrays.fill(tokens, padId);
        for (int r = 0; r < b; r++) {
            TokenSequence s = rows.get(r);
            int start = starts.get(r);
            for (int j = 0; j < lengths[r]; j++) {
                tokens[r * t + j] = s.id(start + j);
                attention[r * t + j] = 1;
                loss[r * t + j] = s.inLoss(start + j) ? 1f : 0f;
            }
            examples[r] = rowIndex.get(r);
        }
        return new TokenBatch(b, t, tokens, attention, loss, lengths, examples, truncated, dropped, pairs);
    }
}
