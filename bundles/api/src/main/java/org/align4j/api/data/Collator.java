package org.align4j.api.data;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Shapes tokenised examples into right-padded batches (TRL's collators; pure Java, no TensorFlow).
 *
 * <p>Truncation: a sequence longer than {@code maxLength} loses tokens from its left, that is from the start of the
 * prompt, when every token cut is outside the loss; when fitting it would cut a token that counts in the loss, the
 * sequence is dropped (for pairs, the whole pair). {@link TokenBatch#truncated()} and {@link TokenBatch#dropped()}
 * count both, and {@link TokenBatch#examples()} maps the rows back to the input.
 */
@ProviderType
public interface Collator {

    /**
     * One row per sequence, right-padded with {@code padId} to the longest (after truncation).
     *
     * @throws IllegalArgumentException {@code maxLength < 1}
     */
    TokenBatch collate(List<TokenSequence> sequences, int maxLength, int padId);

    /**
     * A preference batch, as TRL's {@code DataCollatorForPreference}: {@code 2B} rows, the chosen sequences in rows
     * {@code 0..B-1} and the rejected ones in rows {@code B..2B-1}, row {@code i} and {@code B + i} one pair, all
     * padded to one {@code T}.
     *
     * @throws IllegalArgumentException lists of different sizes, or {@code maxLength < 1}
     */
    TokenBatch collatePairs(List<TokenSequence> chosen, List<TokenSequence> rejected, int maxLength, int padId);
}
