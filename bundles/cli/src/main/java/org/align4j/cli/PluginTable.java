package org.align4j.cli;

import java.util.List;
import java.util.Locale;

import org.align4j.api.runs.PluginDescription;

/** The plugins table of {@code align4j:plugins}: one row per plugin, columns aligned. */
public final class PluginTable {
    private final List<PluginDescription> rows;

    PluginTable(List<PluginDescription> rows) {
        this.rows = List.copyOf(rows);
    }

    public List<PluginDescription> rows() {
        return rows;
    }

    @Override
    public String toString() {
        if (rows.isEmpty()) {
            return "(no align4j plugin is registered)\n";
        }
        int kind = "KIND".length();
        int name = "NAME".length();
        int bundle = "BUNDLE".length();
        for (PluginDescription p : rows) {
            kind = Math.max(kind, p.kind().length());
            name = Math.max(name, p.name().length());
            bundle = Math.max(bundle, p.bundle().length());
        }
        String fmt = "%-" + kind + "s  %-" + name + "s  %-" + bundle + "s  %s%n";
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, fmt, "KIND", "NAME", "BUNDLE", "VERSION"));
        for (PluginDescription p : rows) {
            b.append(String.format(Locale.ROOT, fmt, p.kind(), p.name(), p.bundle(), p.bundleVersion()));
        }
        return b.toString();
    }
}
