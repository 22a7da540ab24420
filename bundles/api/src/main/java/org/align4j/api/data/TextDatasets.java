package org.align4j.api.data;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The corpus tools a trainer or pipeline shares: a seeded split, a seeded shuffle, and packing of tokenised
 * documents into fixed-length blocks.
 */
@ProviderType
public interface TextDatasets {

    /** Two disjoint parts of a list. */
    final class Split<T> {
        private final List<T> train;
        private final List<T> validation;

        public Split(List<T> train, List<T> validation) {
            this.train = List.copyOf(train);
            this.validation = List.copyOf(validation);
        }

        public List<T> train() {
            return train;
        }

        public List<T> validation() {
            return validation;
        }
    }

    /**
     * Shuffles {@code items} with {@code seed}, then puts {@code round(fraction * n)} of them (at least one when
     * {@code fraction > 0} and {@code n > 1}) in validation and the rest in train.
     */
    <T> Split<T> split(List<T> items, double validationFraction, long seed);

    /** A new list: {@code items} in an order fixed by {@code seed} (the same on every machine). */
    <T> List<T> shuffle(List<T> items, long seed);

    /**
     * Concatenates the documents, each followed by {@code eosId}, and cuts the stream into rows of
     * {@code blockLength + 1} tokens overlapping by one, so row {@code r} gives inputs {@code row[0..L)} and targets
     * {@code row[1..L]}. The tail shorter than a row is dropped.
     *
     * @return {@code [N, blockLength + 1]}
     */
    int[][] pack(List<int[]> documents, int blockLength, int eosId);
}
