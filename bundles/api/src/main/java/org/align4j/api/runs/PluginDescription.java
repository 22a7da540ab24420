package org.align4j.api.runs;

import java.util.Map;
import java.util.TreeMap;

/**
 * One plugin a pipeline can name: its kind ({@code attention kernel}, {@code loss: pairwise}, {@code optimizer},
 * {@code trainer}, ...), name, bundle and bundle version, and its service properties (for a trainer, its
 * component's).
 */
public record PluginDescription(String kind, String name, String bundle, String bundleVersion,
        Map<String, String> properties) {
    public PluginDescription {
        properties = java.util.Collections.unmodifiableMap(new TreeMap<>(properties));
    }
}
