package org.align4j.pipeline.internal;

import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Small text helpers shared by messages, filters and the console. */
public final class Texts {

    private Texts() {
    }

    /** {@code value} escaped for the right-hand side of an LDAP filter item (RFC 1960). */
    public static String filterValue(String value) {
        StringBuilder b = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /** {@code (align4j.name=<name>)}, escaped. */
    public static String nameFilter(String name) {
        return "(align4j.name=" + filterValue(name) + ")";
    }

    /** The entry of {@code candidates} closest to {@code word}, if it is close enough to be a likely typo. */
    public static String closest(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String w = word.toLowerCase(Locale.ROOT);
        for (String c : candidates) {
            int d = distance(w, c.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        int allowed = Math.max(1, Math.min(3, word.length() / 3));
        return best != null && bestDistance <= allowed ? best : null;
    }

    /** Levenshtein distance with adjacent transpositions counted as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** A duration as {@code 1h02m}, {@code 4m12s} or {@code 12s}; {@code --} when unknown (negative). */
    public static String duration(long millis) {
        if (millis < 0) {
            return "--";
        }
        long s = Math.round(millis / 1000.0);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }

    /** A metric value: fixed point with 4 decimals in a readable range, scientific notation outside it. */
    public static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return String.valueOf(v);
        }
        double a = Math.abs(v);
        if (a == Math.rint(a) && a < 1e9) {
            return String.valueOf((long) v);
        }
        if (a >= 1e-3 && a < 1e5) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** A rate such as tokens per second: {@code 950}, {@code 12.3k}, {@code 4.56M}. */
    public static String rate(double v) {
        if (Double.isNaN(v) || v < 0) {
            return "--";
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /** {@code word} with its indefinite article: {@code a LanguageModelLoss}, {@code an Optimizer}. */
    public static String a(String word) {
        return (!word.isEmpty() && "AEIOUaeiou".indexOf(word.charAt(0)) >= 0 ? "an " : "a ") + word;
    }

    /** {@code a, b, c}, or {@code none}. */
    public static String list(List<?> items) {
        if (items.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        for (Object o : items) {
            b.append(b.length() == 0 ? "" : ", ").append(o);
        }
        return b.toString();
    }

    /** The message of {@code t}, or its type when it has none. */
    public static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }
}
