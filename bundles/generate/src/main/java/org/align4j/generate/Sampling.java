package org.align4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.align4j.api.generate.GenerationSettings;

/**
 * The choice of the next token from one row's logits, in plain Java (double precision, {@code StrictMath}), so it is
 * testable without TensorFlow and reproducible across machines. The order of the steps is documented on
 * {@link GenerationSettings}.
 */
final class Sampling {
    private Sampling() {
    }

    /** The generator of row (prompt, sample): independent of the batch the row runs in. */
    static SplittableRandom random(long seed, int prompt, int sample) {
        long stream = ((long) prompt << 32) ^ (sample & 0xffffffffL);
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (stream + 1)));
    }

    /**
     * The next token.
     *
     * @param logits the model's logits of the row, {@code [V]}
     * @param seen the distinct ids already in the row (prompt and generated), for the repetition penalty
     * @param seenCount how many of {@code seen} are valid
     */
    static int choose(float[] logits, int[] seen, int seenCount, GenerationSettings s, SplittableRandom random) {
        double[] x = new double[logits.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = logits[i];
        }
        penalize(x, seen, seenCount, s.repetitionPenalty());
        if (s.temperature() == 0) {
            return argmax(x);
        }
        return draw(probabilities(x, s.temperature(), s.topK(), s.topP()), random);
    }

    /** CTRL's repetition penalty, in place: positive logits divided by {@code penalty}, negative ones multiplied. */
    static void penalize(double[] x, int[] seen, int seenCount, double penalty) {
        if (penalty == 1) {
            return;
        }
        for (int i = 0; i < seenCount; i++) {
            int t = seen[i];
            x[t] = x[t] > 0 ? x[t] / penalty : x[t] * penalty;
        }
    }

    /** The index of the largest value; the lowest index on a tie. */
    static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Unnormalised probabilities after temperature, top-k and top-p: 0 for every dropped token.
     *
     * @param topK 0 for all
     * @param topP 1 for all
     */
    static double[] probabilities(double[] logits, double temperature, int topK, double topP) {
        int v = logits.length;
        double[] z = new double[v];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            z[i] = logits[i] / temperature;
            max = Math.max(max, z[i]);
        }
        double kth = topK > 0 && topK < v ? kthLargest(z, topK) : Double.NEGATIVE_INFINITY;
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            if (z[i] >= kth) {
                p[i] = StrictMath.exp(z[i] - max);
                sum += p[i];
            }
        }
        if (topP < 1) {
            double[] sorted = p.clone();
            Arrays.sort(sorted); // ascending: walk from the end
            double cumulative = 0;
            double threshold = 0;
            for (int i = v - 1; i >= 0 && sorted[i] > 0; i--) {
                cumulative += sorted[i];
                threshold = sorted[i];
                if (cumulative >= topP * sum) {
                    break;
                }
            }
            for (int i = 0; i < v; i++) {
                if (p[i] < threshold) {
                    p[i] = 0;
                }
            }
        }
        return p;
    }

    /** The k-th largest of {@code x} ({@code 1 <= k <= x.length}), by a min-heap of the k largest seen. */
    static double kthLargest(double[] x, int k) {
        double[] heap = new double[k];
        int n = 0;
        for (double value : x) {
            if (n < k) {
                int i = n++;
                heap[i] = value;
                while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
                    swap(heap, i, (i - 1) / 2);
                    i = (i - 1) / 2;
                }
            } else if (value > heap[0]) {
                heap[0] = value;
                int i = 0;
                while (true) {
                    int l = 2 * i + 1;
                    int r = l + 1;
                    int m = i;
                    if (l < k && heap[l] < heap[m]) {
                        m = l;
                    }
                    if (r < k && heap[r] < heap[m]) {
                        m = r;
                    }
                    if (m == i) {
                        break;
                    }
                    swap(heap, i, m);
                    i = m;
                }
            }
        }
        return heap[0];
    }

    private static void swap(double[] a, int i, int j) {
        double t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /** Draws index {@code i} with probability {@code p[i] / sum(p)}. */
    static int draw(double[] p, SplittableRandom random) {
        double sum = 0;
        int last = 0;
        for (int i = 0; i < p.length; i++) {
            sum += p[i];
            if (p[i] > 0) {
                last = i;
            }
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                u -= p[i];
                if (u < 0) {
                    return i;
                }
            }
        }
        return last; // rounding left u a hair above 0
    }

    /** {@code log softmax(logits)[token]} in double. */
    static double logProb(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += StrictMath.exp(l - max);
        }
        return logits[token] - max - StrictMath.log(sum);
    }
}
