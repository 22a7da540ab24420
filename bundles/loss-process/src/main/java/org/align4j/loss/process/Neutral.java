package org.align4j.loss.process;

import java.util.Locale;

import org.align4j.api.pipeline.Settings;

/**
 * The {@value #KEY} setting of the two-class losses: what a {@link org.align4j.api.loss.StepLabel#NEUTRAL} step counts
 * as, since a two-class head has no neutral class.
 */
enum Neutral {
    /** A neutral step is a correct one (the default: a neutral step may be technically right). */
    CORRECT,
    /** A neutral step is an incorrect one (the strict reading). */
    INCORRECT,
    /** Neutral steps take no part: neither in the loss nor in its mean nor in the metrics. */
    IGNORE;

    /** The setting's key. */
    static final String KEY = "neutral";
    static final Neutral DEFAULT = CORRECT;

    /** The value of {@value #KEY} in {@code settings}, or {@code def} when absent; fails naming the key. */
    static Neutral from(Settings settings, Neutral def) {
        if (!settings.has(KEY)) {
            return def;
        }
        String v = settings.getString(KEY).trim().toLowerCase(Locale.ROOT);
        for (Neutral n : values()) {
            if (n.name().toLowerCase(Locale.ROOT).equals(v)) {
                return n;
            }
        }
        throw settings.error(KEY, "expected one of correct, incorrect, ignore, got \"" + settings.getString(KEY)
                + "\"");
    }
}
