package org.align4j.pipeline.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;

/** Helpers that build and flatten {@link Settings}. */
public final class SettingsTrees {

    private SettingsTrees() {
    }

    /**
     * Settings holding {@code values} whose {@link Settings#path()} is {@code path} (e.g. {@code data.generate} or
     * {@code stages[0].optimizer}), so a plugin's errors name the place in the file.
     */
    public static Settings at(String source, String path, Map<String, ?> values) {
        if (path == null || path.isEmpty()) {
            return Settings.of(source, values);
        }
        List<KeyPath.Segment> segs = KeyPath.parse(path).segments();
        Object node = new LinkedHashMap<>(values);
        for (int i = segs.size() - 1; i >= 0; i--) {
            KeyPath.Segment s = segs.get(i);
            if (s.isIndex()) {
                List<Object> list = new ArrayList<>();
                for (int k = 0; k < s.index; k++) {
                    list.add(Map.of());
                }
                list.add(node);
                node = list;
            } else {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put(s.key, node);
                node = m;
            }
        }
        @SuppressWarnings("unchecked")
        Settings s = Settings.of(source, (Map<String, ?>) node);
        for (int i = 0; i < segs.size(); i++) {
            KeyPath.Segment seg = segs.get(i);
            boolean nextIsIndex = i + 1 < segs.size() && segs.get(i + 1).isIndex();
            if (nextIsIndex) {
                s = s.sections(seg.key).get(segs.get(i + 1).index);
                i++;
            } else {
                s = s.section(seg.key);
            }
        }
        return s;
    }

    /** {@code settings} without {@code keys}, at the same path. */
    public static Settings without(Settings settings, String... keys) {
        Map<String, Object> m = new LinkedHashMap<>(settings.asMap());
        for (String k : keys) {
            m.remove(k);
        }
        return at(settings.source(), settings.path(), m);
    }

    /**
     * Every leaf of {@code value} as {@code prefix.key.sub[0] -> String}; nulls are left out.
     */
    public static Map<String, String> flatten(String prefix, Object value) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten(prefix, value, out);
        return out;
    }

    private static void flatten(String path, Object value, Map<String, String> out) {
        if (value == null) {
            return;
        }
        if (value instanceof Map) {
            ((Map<?, ?>) value).forEach((k, v) -> flatten(path.isEmpty() ? String.valueOf(k) : path + "." + k, v,
                    out));
        } else if (value instanceof List) {
            List<?> l = (List<?>) value;
            for (int i = 0; i < l.size(); i++) {
                flatten(path + "[" + i + "]", l.get(i), out);
            }
        } else {
            out.put(path, String.valueOf(value));
        }
    }

    /**
     * Like {@link Settings#checkKnown(String...)}, and suggests the accepted key closest to a misspelt one:
     * {@code stages: unknown setting "stagse" (did you mean "stages"? accepted here: run, model, data, stages)}.
     */
    public static void checkKnown(Settings s, String... known) {
        Set<String> ok = Set.of(known);
        for (String k : s.keys()) {
            if (!ok.contains(k)) {
                String guess = Texts.closest(k, List.of(known));
                throw new SettingsException(s.source(), s.pathOf(k), "unknown setting"
                        + (guess == null ? "" : " (did you mean \"" + guess + "\"?)") + "; accepted here: "
                        + String.join(", ", known));
            }
        }
    }
}
