package org.align4j.reward;

import java.time.Duration;

/** Reads durations as settings write them: {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1.5s}, or seconds. */
final class Durations {
    private Durations() {
    }

    /**
     * @param where names the setting in the error, e.g. {@code org.align4j.reward.models: timeout}
     * @throws IllegalArgumentException saying what was expected
     */
    static Duration parse(String text, String where) {
        String s = text == null ? "" : text.trim();
        double unitMillis;
        String number;
        if (s.endsWith("ms")) {
            unitMillis = 1;
            number = s.substring(0, s.length() - 2);
        } else if (s.endsWith("s")) {
            unitMillis = 1000;
            number = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m")) {
            unitMillis = 60_000;
            number = s.substring(0, s.length() - 1);
        } else {
            unitMillis = 1000;
            number = s;
        }
        double value;
        try {
            value = Double.parseDouble(number.trim());
        } catch (NumberFormatException e) {
            value = Double.NaN;
        }
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(where + ": expected a positive duration like 30s, 500ms or 2m, got \""
                    + text + "\"");
        }
        return Duration.ofMillis(Math.max(1, Math.round(value * unitMillis)));
    }

    /** {@code 30 s}, {@code 0.5 s}: how messages write a duration. */
    static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : (ms / 1000.0) + " s";
    }
}
