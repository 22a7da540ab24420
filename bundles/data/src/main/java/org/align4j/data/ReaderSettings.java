package org.align4j.data;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.align4j.api.pipeline.Settings;

/** Settings shared by the readers. */
final class ReaderSettings {
    static final String SKIP_MALFORMED = "skip_malformed";
    static final String FIELD = "field";
    static final String DEFAULT_FIELD = "text";

    private ReaderSettings() {
    }

    /** A list of field names: a YAML list, or one name as a plain string. Empty when absent. */
    static List<String> names(Settings settings, String key) {
        if (!settings.has(key)) {
            return List.of();
        }
        Object v = settings.asMap().get(key);
        List<?> list = v instanceof List ? (List<?>) v : List.of(v);
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object e = list.get(i);
            if (!(e instanceof String) || ((String) e).isEmpty()) {
                throw settings.error(v instanceof List ? key + "[" + i + "]" : key,
                        "expected a field name, got " + (e == null ? "nothing" : e instanceof String ? "\"\"" : e));
            }
            out.add((String) e);
        }
        return new ArrayList<>(out);
    }

    /** A non-empty field name, {@code text} when absent. */
    static String field(Settings settings) {
        String f = settings.getString(FIELD, DEFAULT_FIELD);
        if (f.isEmpty()) {
            throw settings.error(FIELD, "expected a field name, got \"\"");
        }
        return f;
    }
}
