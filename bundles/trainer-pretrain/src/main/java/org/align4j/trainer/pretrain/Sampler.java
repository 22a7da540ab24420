package org.align4j.trainer.pretrain;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Generates text from the trained model by re-running the whole prefix for each new token (no KV cache: fine for
 * the few short samples printed at the end of a run). Temperature 0 is greedy decoding.
 */
final class Sampler {
    private final Function<int[], float[]> nextLogits;
    private final int context;
    private final int eos;

    /** @param nextLogits the next-token logits ({@code [V]}) after a context of ids */
    Sampler(Function<int[], float[]> nextLogits, int context, int eos) {
        this.nextLogits = nextLogits;
        this.context = context;
        this.eos = eos;
    }

    /** Continues {@code prompt} (ids; may be empty: then the text starts after an end-of-text token). */
    int[] sample(int[] prompt, int maxTokens, double temperature, SplittableRandom random) {
        int[] seq = new int[prompt.length + 1 + maxTokens];
        seq[0] = eos;
        System.arraycopy(prompt, 0, seq, 1, prompt.length);
        int len = prompt.length + 1;
        for (int n = 0; n < maxTokens; n++) {
            int from = Math.max(0, len - context);
            float[] logits = nextLogits.apply(Arrays.copyOfRange(seq, from, len));
            int next = temperature <= 0 ? argmax(logits) : draw(logits, temperature, random);
            if (next == eos) {
                break;
            }
            seq[len++] = next;
        }
        return Arrays.copyOfRange(seq, 1, len);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static int draw(float[] logits, double temperature, SplittableRandom random) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return p.length - 1;
    }
}
