package org.align4j.pipeline.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.align4j.api.pipeline.SettingsException;

/**
 * Command-line overrides of a pipeline file: {@code stages[0].steps=10} (or {@code stages.0.steps=10}, which a shell
 * such as Gogo passes through unchanged), {@code run.name=try2},
 * {@code data.skip_malformed=true}. A value is parsed as YAML would a plain scalar: {@code true}/{@code false},
 * a whole number, a decimal number ({@code 3e-4}), {@code null}; anything else (or anything in quotes) is a string.
 * Missing sections are created; a list index may be the list's size, which appends an entry.
 */
public final class Overrides {
    private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
    private static final Pattern DECIMAL = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");

    private Overrides() {
    }

    /** The typed value of an override: Boolean, Integer/Long, Double, null or String. */
    public static Object value(String text) {
        String t = text.trim();
        if (t.length() >= 2 && (t.startsWith("\"") && t.endsWith("\"") || t.startsWith("'") && t.endsWith("'"))) {
            return t.substring(1, t.length() - 1);
        }
        if (t.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (t.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        if (t.equals("null") || t.equals("~")) {
            return null;
        }
        if (INTEGER.matcher(t).matches()) {
            try {
                long l = Long.parseLong(t.startsWith("+") ? t.substring(1) : t);
                return l == (int) l ? (Object) (int) l : (Object) l;
            } catch (NumberFormatException e) {
                return t; // beyond a long: keep the text
            }
        }
        if (DECIMAL.matcher(t).matches()) {
            return Double.parseDouble(t);
        }
        return t;
    }

    /**
     * Applies {@code overrides} to {@code root} (mutable maps and lists, as read from YAML).
     *
     * @param source the file name, for errors
     */
    public static void apply(Map<String, Object> root, Map<String, String> overrides, String source) {
        overrides.forEach((key, value) -> apply(root, key, value, source));
    }

    @SuppressWarnings("unchecked")
    private static void apply(Map<String, Object> root, String key, String value, String source) {
        String what = "override " + key + "=" + value;
        KeyPath path;
        try {
            path = KeyPath.parse(key);
        } catch (IllegalArgumentException e) {
            throw new SettingsException(source, what, e.getMessage());
        }
        List<KeyPath.Segment> segs = path.segments();
        Object node = root;
        for (int i = 0; i < segs.size(); i++) {
            KeyPath.Segment s = segs.get(i);
            boolean last = i == segs.size() - 1;
            Object next = last ? value(value) : null;
            // stages.0.steps means stages[0].steps: the form a shell that reads [0] as a list passes on unchanged
            boolean digits = !s.isIndex() && node instanceof List && s.key.matches("\\d{1,9}");
            if (s.isIndex() || digits) {
                int index = digits ? Integer.parseInt(s.key) : s.index;
                if (!(node instanceof List)) {
                    throw new SettingsException(source, what, path.prefix(i) + " is not a list, so ["
                            + index + "] does not apply");
                }
                List<Object> list = (List<Object>) node;
                if (index > list.size()) {
                    throw new SettingsException(source, what, path.prefix(i) + " has " + list.size()
                            + (list.size() == 1 ? " entry" : " entries") + ", so [" + index
                            + "] is out of range (use 0.." + (list.size() - 1) + ", or " + list.size()
                            + " to append one)");
                }
                if (last) {
                    if (index == list.size()) {
                        list.add(next);
                    } else {
                        list.set(index, next);
                    }
                } else {
                    if (index == list.size()) {
                        list.add(container(segs.get(i + 1)));
                    }
                    node = list.get(index);
                    if (node == null) {
                        node = container(segs.get(i + 1));
                        list.set(index, node);
                    }
                }
            } else {
                if (!(node instanceof Map)) {
                    throw new SettingsException(source, what, path.prefix(i) + " is a value, not a section, so it"
                            + " has no key \"" + s.key + "\"");
                }
                Map<String, Object> map = (Map<String, Object>) node;
                if (last) {
                    map.put(s.key, next);
                } else {
                    Object child = map.get(s.key);
                    if (child == null) {
                        if (segs.get(i + 1).isIndex()) {
                            throw new SettingsException(source, what, path.prefix(i + 1)
                                    + " is not in the file, so it has no entry " + segs.get(i + 1));
                        }
                        child = container(segs.get(i + 1));
                        map.put(s.key, child);
                    }
                    node = child;
                }
            }
        }
    }

    private static Object container(KeyPath.Segment next) {
        return next.isIndex() ? new ArrayList<>() : new LinkedHashMap<String, Object>();
    }
}
