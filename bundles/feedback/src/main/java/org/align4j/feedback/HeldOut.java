package org.align4j.feedback;

/**
 * Which questions are held out ({@code heldout:} a fraction in [0, {@value #MAX}]): their feedback is written without
 * noise into {@code feedback/heldout/} and left out of the training files, so that a reward model can be evaluated
 * against the verifier's judgement on questions it never trained on.
 *
 * <p>The choice is by question: a prompt's text (a 64-bit FNV-1a hash of its UTF-16 code units) and the stage's seed
 * give a number {@code u} uniform in [0, 1), and the question is held out when {@code u < fraction}. So every answer
 * of a question, and every copy of the same question, lands on the same side; the choice does not depend on where the
 * question stands in the data, on the groups it is sampled in, or on the other questions; the same seed chooses the
 * same questions, and a larger fraction holds out a superset of a smaller one's questions.
 */
final class HeldOut {
    /** The largest fraction: at least a tenth of the questions stays for training. */
    static final double MAX = 0.9;
    /** Holds out nothing. */
    static final HeldOut NONE = new HeldOut(0, 0);

    /** Keeps the held-out draw apart from the noise streams drawn from the same seed. */
    private static final long SALT = 0xBB67AE8584CAA73BL;

    final double fraction;
    private final long seed;

    HeldOut(double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= MAX)) {
            throw new IllegalArgumentException("heldout = " + fraction + ": expected a fraction in [0, " + MAX + "]");
        }
        this.fraction = fraction;
        this.seed = seed;
    }

    /** Whether any question is held out. */
    boolean enabled() {
        return fraction > 0;
    }

    /** Whether the question {@code prompt} is held out. */
    boolean test(String prompt) {
        if (fraction <= 0) {
            return false;
        }
        long u = LabelNoise.mix(seed ^ SALT, fnv1a(prompt)) >>> 11; // 53 random bits
        return u * 0x1.0p-53 < fraction;
    }

    private static long fnv1a(String s) {
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001B3L;
        }
        return h;
    }

    @Override
    public String toString() {
        return "heldout=" + fraction;
    }
}
