package org.align4j.trainer.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class UnigramBaselineTest {

    @Test
    void perplexityOfTheSmoothedUnigramModel() {
        // targets (positions 1..) of the training rows: 1, 1, 2 and 1, 3, 3 -> counts {1: 3, 2: 1, 3: 2}, total 6
        int[][] train = {{0, 1, 1, 2}, {0, 1, 3, 3}};
        // validation targets: 1, 2
        int[][] valid = {{9, 1, 2}};
        int v = 4;
        double p1 = (3 + 1.0) / (6 + v);
        double p2 = (1 + 1.0) / (6 + v);
        double expected = Math.exp(-(Math.log(p1) + Math.log(p2)) / 2);
        assertEquals(expected, UnigramBaseline.perplexity(train, valid, v), 1e-12);
    }

    @Test
    void aUniformCorpusGivesTheVocabularySize() {
        int v = 5;
        int[][] rows = {{0, 0, 1, 2, 3, 4}};
        assertEquals(v, UnigramBaseline.perplexity(rows, rows, v), 1e-9);
    }
}
