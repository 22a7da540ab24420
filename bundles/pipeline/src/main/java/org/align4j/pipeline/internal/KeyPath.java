package org.align4j.pipeline.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A key path into a pipeline file: {@code stages[0].optimizer.lr}. Each segment is a key (of a section) or an index
 * (of a list).
 */
public final class KeyPath {

    /** One step of a path: a key, or an index when {@link #key} is {@code null}. */
    public static final class Segment {
        final String key;
        final int index;

        private Segment(String key, int index) {
            this.key = key;
            this.index = index;
        }

        boolean isIndex() {
            return key == null;
        }

        @Override
        public String toString() {
            return isIndex() ? "[" + index + "]" : key;
        }
    }

    private final String text;
    private final List<Segment> segments;

    private KeyPath(String text, List<Segment> segments) {
        this.text = text;
        this.segments = Collections.unmodifiableList(segments);
    }

    /**
     * Parses {@code a.b[0].c}.
     *
     * @throws IllegalArgumentException saying what is wrong with the path
     */
    public static KeyPath parse(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty key");
        }
        List<Segment> out = new ArrayList<>();
        int i = 0;
        boolean expectKey = true;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c == '[') {
                int close = t.indexOf(']', i);
                if (close < 0) {
                    throw new IllegalArgumentException("missing ']' in key \"" + t + "\"");
                }
                String n = t.substring(i + 1, close).trim();
                if (out.isEmpty() || !n.matches("\\d{1,9}")) {
                    throw new IllegalArgumentException("expected a list index like [0] in key \"" + t + "\"");
                }
                out.add(new Segment(null, Integer.parseInt(n)));
                i = close + 1;
                expectKey = false;
            } else if (c == '.') {
                if (expectKey) {
                    throw new IllegalArgumentException("empty key segment in \"" + t + "\"");
                }
                i++;
                expectKey = true;
                if (i == t.length()) {
                    throw new IllegalArgumentException("key \"" + t + "\" ends with '.'");
                }
            } else {
                if (!expectKey) {
                    throw new IllegalArgumentException("expected '.' or '[' after \"" + t.substring(0, i)
                            + "\" in key \"" + t + "\"");
                }
                int end = i;
                while (end < t.length() && t.charAt(end) != '.' && t.charAt(end) != '[') {
                    end++;
                }
                String k = t.substring(i, end).trim();
                if (k.isEmpty() || k.indexOf(']') >= 0) {
                    throw new IllegalArgumentException("bad key segment \"" + t.substring(i, end) + "\" in \"" + t
                            + "\"");
                }
                out.add(new Segment(k, -1));
                i = end;
                expectKey = false;
            }
        }
        return new KeyPath(t, out);
    }

    public List<Segment> segments() {
        return segments;
    }

    /** The path of the first {@code n} segments, written as in a pipeline file. */
    public String prefix(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Segment s = segments.get(i);
            if (!s.isIndex() && b.length() > 0) {
                b.append('.');
            }
            b.append(s);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}
