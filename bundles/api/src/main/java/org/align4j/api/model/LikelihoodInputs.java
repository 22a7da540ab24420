package org.align4j.api.model;

import java.util.List;

/**
 * The inputs of a reward model's likelihood term ({@link ModelConfig#scoreLikelihood()}), built the same way by the
 * stage that trains the model and by whatever scores with it: position {@code j - 1} predicts token {@code j}.
 *
 * @since 1.2
 */
public final class LikelihoodInputs {
    private LikelihoodInputs() {
    }

    /**
     * The {@code next} of {@link Transformer#tokenLogProbs}: row-major {@code [rows, width]} {@code tokens} shifted one
     * position to the left, the last column 0.
     */
    public static int[] nextTokens(int[] tokens, int rows, int width) {
        int[] next = new int[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(tokens, r * width + 1, next, r * width, width - 1);
        }
        return next;
    }

    /**
     * The {@code stepTokens} of {@link Transformer#stepLogProbFeatures}, row-major {@code [rows, steps, width]}: for
     * step {@code k} of row {@code i}, 1 at each position that predicts one of its tokens. Its tokens run from
     * {@code firstStep[i]} (step 0) or just after the previous step's separator, to just before its own separator
     * {@code separators.get(i)[k]}; token 0 of a row is never predicted.
     */
    public static float[] stepTokens(int rows, int steps, int width, int[] firstStep, List<int[]> separators) {
        float[] mark = new float[rows * steps * width];
        for (int i = 0; i < rows; i++) {
            int[] sep = separators.get(i);
            for (int k = 0; k < sep.length; k++) {
                for (int j = Math.max(1, k == 0 ? firstStep[i] : sep[k - 1] + 1); j < sep[k]; j++) {
                    mark[(i * steps + k) * width + j - 1] = 1f;
                }
            }
        }
        return mark;
    }
}
