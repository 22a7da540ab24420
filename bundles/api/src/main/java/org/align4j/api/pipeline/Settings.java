package org.align4j.api.pipeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/**
 * An immutable, typed view of one section of a pipeline file (or any nested map of plain values). Every accessor
 * names the file and the full key path in its error, so a plugin never has to format one itself.
 *
 * <p>Values are what YAML/JSON produce: {@link String}, {@link Number}, {@link Boolean}, {@link Map} and {@link List}.
 * Numbers written as strings ({@code "3e-4"}) are accepted where a number is expected.
 *
 * <p>{@link #checkKnown(String...)} lets a consumer reject misspelt keys, which YAML itself never does.
 */
@ProviderType
public final class Settings {
    private final String source;
    private final String path;
    private final Map<String, Object> values;

    private Settings(String source, String path, Map<String, Object> values) {
        this.source = source == null ? "" : source;
        this.path = path == null ? "" : path;
        this.values = values;
    }

    /** Settings read from {@code source} (a file name, shown in errors) at the top level. */
    public static Settings of(String source, Map<String, ?> values) {
        return new Settings(source, "", copy(values));
    }

    /** Settings with no values: every accessor returns its default. */
    public static Settings empty(String source, String path) {
        return new Settings(source, path, Collections.emptyMap());
    }

    private static Map<String, Object> copy(Map<String, ?> values) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (values != null) {
            values.forEach((k, v) -> m.put(String.valueOf(k), v));
        }
        return Collections.unmodifiableMap(m);
    }

    public String source() {
        return source;
    }

    /**
     * This section without {@code keys}, at the same place in the file (so errors still name it): what a plugin gets
     * of a section that also names it, e.g. {@code loss: { name: bradley-terry, center: 0.01 }} without {@code name}.
     *
     * @since 1.1
     */
    public Settings without(String... keys) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        for (String k : keys) {
            m.remove(k);
        }
        return new Settings(source, path, Collections.unmodifiableMap(m));
    }

    /** The key path of this section, e.g. {@code stages[0].optimizer}; empty at the top level. */
    public String path() {
        return path;
    }

    /** The full path of {@code key} inside this section. */
    public String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public boolean has(String key) {
        return values.containsKey(key) && values.get(key) != null;
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /** The raw values of this section (read-only). */
    public Map<String, Object> asMap() {
        return values;
    }

    /** An error about {@code key} in this section, for checks an accessor cannot make. */
    public SettingsException error(String key, String problem) {
        return new SettingsException(source, key == null ? path : pathOf(key), problem);
    }

    /** Fails on any key not in {@code known}, naming the keys that are accepted. */
    public Settings checkKnown(String... known) {
        Set<String> ok = new LinkedHashSet<>(List.of(known));
        for (String k : values.keySet()) {
            if (!ok.contains(k)) {
                throw error(k, "unknown setting (accepted here: " + String.join(", ", ok) + ")");
            }
        }
        return this;
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof Map || v instanceof List) {
            throw error(key, "expected a string, got " + describe(v));
        }
        return String.valueOf(v);
    }

    public String getString(String key, String def) {
        return has(key) ? getString(key) : def;
    }

    public long getLong(String key) {
        Object v = require(key);
        double d = toDouble(key, v);
        if (d != Math.rint(d) || Double.isInfinite(d)) {
            throw error(key, "expected a whole number, got " + describe(v));
        }
        return (long) d;
    }

    public long getLong(String key, long def) {
        return has(key) ? getLong(key) : def;
    }

    public int getInt(String key) {
        long l = getLong(key);
        if (l > Integer.MAX_VALUE || l < Integer.MIN_VALUE) {
            throw error(key, "number out of range: " + l);
        }
        return (int) l;
    }

    public int getInt(String key, int def) {
        return has(key) ? getInt(key) : def;
    }

    /** An int in {@code [min, max]}. */
    public int getInt(String key, int def, int min, int max) {
        int v = getInt(key, def);
        if (v < min || v > max) {
            throw error(key, "expected a whole number in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    public double getDouble(String key) {
        return toDouble(key, require(key));
    }

    public double getDouble(String key, double def) {
        return has(key) ? getDouble(key) : def;
    }

    /** A double in {@code [min, max]}. */
    public double getDouble(String key, double def, double min, double max) {
        double v = getDouble(key, def);
        if (!(v >= min && v <= max)) {
            throw error(key, "expected a number in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    public boolean getBoolean(String key, boolean def) {
        if (!has(key)) {
            return def;
        }
        Object v = values.get(key);
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        String s = String.valueOf(v).trim().toLowerCase();
        if (s.equals("true") || s.equals("yes") || s.equals("on")) {
            return true;
        }
        if (s.equals("false") || s.equals("no") || s.equals("off")) {
            return false;
        }
        throw error(key, "expected true or false, got " + describe(v));
    }

    /**
     * A list of strings; a single string reads as a list of one; {@code def} when absent. Fails naming the key on
     * anything else.
     */
    public List<String> getStrings(String key, List<String> def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            return List.of(String.valueOf(v));
        }
        if (!(v instanceof List)) {
            throw error(key, "expected a list of strings, got " + describe(v));
        }
        List<String> out = new ArrayList<>();
        List<?> list = (List<?>) v;
        for (int i = 0; i < list.size(); i++) {
            Object e = list.get(i);
            if (e == null || e instanceof Map || e instanceof List) {
                throw new SettingsException(source, pathOf(key) + "[" + i + "]", "expected a string, got "
                        + describe(e));
            }
            out.add(String.valueOf(e));
        }
        return List.copyOf(out);
    }

    /** A nested section; empty (all defaults) when absent. A plain string {@code x} reads as {@code {name: x}}. */
    public Settings section(String key) {
        Object v = values.get(key);
        if (v == null) {
            return empty(source, pathOf(key));
        }
        if (v instanceof Map) {
            return new Settings(source, pathOf(key), copy((Map<String, ?>) v));
        }
        if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            return new Settings(source, pathOf(key), Map.of("name", v));
        }
        throw error(key, "expected a section (key: value pairs), got " + describe(v));
    }

    /** A list of sections, e.g. {@code stages}; empty when absent. */
    public List<Settings> sections(String key) {
        Object v = values.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List)) {
            throw error(key, "expected a list, got " + describe(v));
        }
        List<Settings> out = new ArrayList<>();
        List<?> list = (List<?>) v;
        for (int i = 0; i < list.size(); i++) {
            Object e = list.get(i);
            String p = pathOf(key) + "[" + i + "]";
            if (!(e instanceof Map)) {
                throw new SettingsException(source, p, "expected a section (key: value pairs), got " + describe(e));
            }
            out.add(new Settings(source, p, copy((Map<String, ?>) e)));
        }
        return out;
    }

    private Object require(String key) {
        if (!has(key)) {
            throw error(key, "missing (required)");
        }
        return values.get(key);
    }

    private double toDouble(String key, Object v) {
        if (v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof String) {
            try {
                return Double.parseDouble(((String) v).trim());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw error(key, "expected a number, got " + describe(v));
    }

    private static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof String) {
            return "\"" + v + "\"";
        }
        if (v instanceof Map) {
            return "a section";
        }
        if (v instanceof List) {
            return "a list";
        }
        return String.valueOf(v);
    }

    @Override
    public String toString() {
        return (source.isEmpty() ? "" : source + ": ") + (path.isEmpty() ? "<top>" : path) + " " + values;
    }
}
