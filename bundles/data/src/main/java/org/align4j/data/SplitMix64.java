package org.align4j.data;

/**
 * SplitMix64 (Steele, Lea and Flood, 2014; the constants of Vigna's reference {@code splitmix64.c}): a fixed
 * algorithm, so a seed gives the same stream on every JVM and machine. {@link #nextInt(int)} is unbiased: it draws
 * 63-bit values and rejects the few at the top that would favour small results.
 */
final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in {@code [0, bound)}. */
    int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        while (true) {
            long u = nextLong() >>> 1;
            long r = u % bound;
            if (u - r + (bound - 1) >= 0) { // no overflow: u lies in a whole block of bound values
                return (int) r;
            }
        }
    }
}
