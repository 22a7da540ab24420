package org.align4j.model;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Initial values of the parameters, drawn in Java so that a seed gives the same model on every machine, operating
 * system and thread count (GPT-2's scheme):
 * <ul>
 * <li>matmul weights and embeddings: {@code N(0, init_std)};</li>
 * <li>the projections that write into the residual stream ({@code attn.o.weight}, {@code mlp.proj.weight}):
 * {@code N(0, init_std / sqrt(2 * layers))};</li>
 * <li>biases 0, norm gains 1;</li>
 * <li>a reward model's likelihood weights: the prior that a likely text is a good one. Per feature (rows of
 * {@code [2, C]}), +1 toward the first class (correct) and -1 toward the last (incorrect), 0 between; with one
 * class, +1. The scalar head's {@code [2]}: +1 each.</li>
 * </ul>
 * Each parameter draws from its own {@link SplittableRandom}, seeded from the run's seed and the parameter's name
 * without the model prefix, so a policy and its reference built from one seed start equal, and adding a parameter
 * never shifts the values of the others. Normal deviates come from the Box-Muller transform over
 * {@link StrictMath}, whose results are specified bit for bit.
 */
final class Initializer {

    /** How a parameter starts. */
    enum Kind {
        /** {@code N(0, init_std)} */
        NORMAL,
        /** {@code N(0, init_std / sqrt(2 * layers))}: projections into the residual stream */
        RESIDUAL,
        /** 0: biases */
        ZEROS,
        /** 1: norm gains */
        ONES,
        /** {@code [2, C]}: +1 in column 0, -1 in column C - 1 (C &gt; 1), 0 elsewhere */
        LIKELIHOOD_PRIOR
    }

    private Initializer() {
    }

    /** The initial values of a parameter with {@code size} entries. */
    static float[] values(long seed, String localName, Kind kind, int size, float initStd, int layers) {
        float[] x = new float[size];
        switch (kind) {
        case ZEROS:
            break;
        case ONES:
            java.util.Arrays.fill(x, 1f);
            break;
        case LIKELIHOOD_PRIOR:
            int classes = size / 2;
            for (int row = 0; row < 2; row++) {
                x[row * classes] = 1f;
                if (classes > 1) {
                    x[row * classes + classes - 1] = -1f;
                }
            }
            break;
        case NORMAL:
            fillNormal(new SplittableRandom(streamSeed(seed, localName)), x, initStd);
            break;
        case RESIDUAL:
            fillNormal(new SplittableRandom(streamSeed(seed, localName)), x, initStd / Math.sqrt(2.0 * layers));
            break;
        default:
            throw new AssertionError(kind);
        }
        return x;
    }

    /** The seed of a parameter's stream: the run's seed mixed with a 64-bit FNV-1a hash of its name. */
    static long streamSeed(long seed, String localName) {
        long h = 0xcbf29ce484222325L;
        for (byte b : localName.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(mix(seed) ^ h);
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** {@code N(0, std)} by Box-Muller, two deviates per pair of uniforms. */
    static void fillNormal(SplittableRandom random, float[] out, double std) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - random.nextDouble(); // (0, 1]: log stays finite
            double u2 = random.nextDouble();
            double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double angle = 2.0 * StrictMath.PI * u2;
            out[i] = (float) (std * radius * StrictMath.cos(angle));
            if (i + 1 < out.length) {
                out[i + 1] = (float) (std * radius * StrictMath.sin(angle));
            }
        }
    }
}
