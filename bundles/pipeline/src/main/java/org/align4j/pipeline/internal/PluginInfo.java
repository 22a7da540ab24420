package org.align4j.pipeline.internal;

import java.util.List;
import java.util.Objects;

/**
 * A registered plugin as a person sees it: kind (interface simple name), {@code align4j.name}, and the bundle that
 * registered it. {@link #toString()} is the form used in messages: {@code causal-lm 0.1.0 [org.align4j.loss.lm]}.
 */
public final class PluginInfo implements Comparable<PluginInfo> {
    private final String name;
    private final List<String> types;
    private final String bundle;
    private final String version;
    private final List<String> supports;
    private final int ranking;

    /**
     * @param types the {@code objectClass} values of the service (fully qualified)
     */
    public PluginInfo(String name, List<String> types, String bundle, String version) {
        this(name, types, bundle, version, List.of(), 0);
    }

    private PluginInfo(String name, List<String> types, String bundle, String version, List<String> supports,
            int ranking) {
        this.name = Objects.requireNonNull(name, "name");
        this.types = List.copyOf(types);
        this.bundle = bundle == null ? "?" : bundle;
        this.version = version == null ? "?" : version;
        this.supports = List.copyOf(supports);
        this.ranking = ranking;
    }

    /** The same plugin with its {@code align4j.supports} service property (what an attention kernel can do). */
    public PluginInfo withSupports(List<String> what) {
        return new PluginInfo(name, types, bundle, version, what, ranking);
    }

    /** The same plugin with its {@code service.ranking} (0 when the service sets none). */
    public PluginInfo withRanking(int rank) {
        return new PluginInfo(name, types, bundle, version, supports, rank);
    }

    /** The {@code service.ranking} property: of two kernels that can run a model, the higher one is its default. */
    public int ranking() {
        return ranking;
    }

    /**
     * The {@code align4j.supports} service property: a kernel's {@code cache}, {@code grouped}, {@code window},
     * {@code alibi}; empty when the service sets none.
     */
    public List<String> supports() {
        return supports;
    }

    /** A service property of one string or several (a String, String[] or Collection) as a list. */
    public static List<String> strings(Object property) {
        if (property == null) {
            return List.of();
        }
        if (property instanceof String[] a) {
            return List.of(a);
        }
        if (property instanceof java.util.Collection<?> c) {
            return c.stream().map(String::valueOf).toList();
        }
        return List.of(String.valueOf(property));
    }

    public String name() {
        return name;
    }

    /** Fully qualified {@code objectClass} names. */
    public List<String> types() {
        return types;
    }

    /** The simple name of the first {@code org.align4j.api} type (or of the first type). */
    public String kind() {
        for (String t : types) {
            if (t.startsWith("org.align4j.api.")) {
                return simple(t);
            }
        }
        return types.isEmpty() ? "?" : simple(types.get(0));
    }

    public static String simple(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    public String bundle() {
        return bundle;
    }

    public String version() {
        return version;
    }

    @Override
    public int compareTo(PluginInfo o) {
        int c = name.compareTo(o.name);
        return c != 0 ? c : (bundle + version).compareTo(o.bundle + o.version);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PluginInfo && ((PluginInfo) o).name.equals(name) && ((PluginInfo) o).types.equals(types)
                && ((PluginInfo) o).bundle.equals(bundle) && ((PluginInfo) o).version.equals(version);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, types, bundle, version);
    }

    @Override
    public String toString() {
        return name + " " + version + " [" + bundle + "]";
    }
}
