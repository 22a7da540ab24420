package org.align4j.best.of.n;

/** Which of a prompt's N scored completions best-of-N keeps. */
final class Selection {
    private Selection() {
    }

    /**
     * The offset, in {@code [0, n)}, of the highest of {@code scores[from .. from + n)}; the first of equal scores
     * (the earliest sample) wins, and a NaN never does unless all are NaN.
     */
    static int best(float[] scores, int from, int n) {
        int pick = 0;
        for (int k = 1; k < n; k++) {
            float s = scores[from + k];
            float b = scores[from + pick];
            if (Float.isNaN(b) && !Float.isNaN(s) || s > b) {
                pick = k;
            }
        }
        return pick;
    }
}
