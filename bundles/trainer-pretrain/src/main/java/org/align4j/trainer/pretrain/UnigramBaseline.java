package org.align4j.trainer.pretrain;

/**
 * The unigram model of the training blocks' targets (add-one smoothed over the vocabulary) and its perplexity on
 * the validation targets: the baseline a trained model's perplexity is judged against.
 */
final class UnigramBaseline {
    private UnigramBaseline() {
    }

    static double perplexity(int[][] train, int[][] validation, int vocabSize) {
        long[] counts = new long[vocabSize];
        long total = 0;
        for (int[] row : train) {
            for (int t = 1; t < row.length; t++) {
                counts[row[t]]++;
                total++;
            }
        }
        double nll = 0;
        long n = 0;
        for (int[] row : validation) {
            for (int t = 1; t < row.length; t++) {
                double p = (counts[row[t]] + 1.0) / (total + vocabSize);
                nll -= Math.log(p);
                n++;
            }
        }
        return n == 0 ? Double.NaN : Math.exp(nll / n);
    }
}
