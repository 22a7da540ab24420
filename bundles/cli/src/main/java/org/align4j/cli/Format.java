package org.align4j.cli;

import java.util.List;
import java.util.Locale;

/** How the command line writes durations, numbers and lists. */
final class Format {
    private Format() {
    }

    /** {@code 45s}, {@code 2m05s}, {@code 1h02m}. */
    static String duration(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    /** Up to six significant digits, no exponent for everyday magnitudes. */
    static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return String.valueOf(v);
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.valueOf((long) v);
        }
        double a = Math.abs(v);
        return a >= 1e-4 && a < 1e6 ? String.format(Locale.ROOT, "%.6g", v).replaceAll("0+$", "")
                .replaceAll("\\.$", "") : String.format(Locale.ROOT, "%.4e", v);
    }

    /** {@code a, b, c}, or {@code none}. */
    static String list(List<String> items) {
        return items.isEmpty() ? "none" : String.join(", ", items);
    }
}
