package org.align4j.pipeline.internal;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A trainer component as declared to Declarative Services: its {@code align4j.name}, bundle, configuration PID and
 * policy, and the references the pipeline fills with target filters.
 */
public final class TrainerInfo {

    /** A reference of the trainer component. */
    public static final class Ref {
        private final String name;
        private final String interfaceName;
        private final String cardinality;
        private final String policy;

        public Ref(String name, String interfaceName, String cardinality) {
            this(name, interfaceName, cardinality, "static");
        }

        /** @param policy {@code static} or {@code dynamic} */
        public Ref(String name, String interfaceName, String cardinality, String policy) {
            this.name = Objects.requireNonNull(name);
            this.interfaceName = Objects.requireNonNull(interfaceName);
            this.cardinality = cardinality == null ? "1..1" : cardinality;
            this.policy = policy == null ? "static" : policy;
        }

        /** Whether DS rebinds it while the component runs (a plugin the trainer may swap). */
        public boolean dynamic() {
            return policy.equals("dynamic");
        }

        public String name() {
            return name;
        }

        public String interfaceName() {
            return interfaceName;
        }

        /** {@code 1..1}, {@code 0..1}, {@code 0..n} or {@code 1..n}. */
        public String cardinality() {
            return cardinality;
        }

        public boolean mandatory() {
            return cardinality.startsWith("1");
        }
    }

    private final PluginInfo plugin;
    private final String pid;
    private final String configurationPolicy;
    private final List<Ref> references;

    public TrainerInfo(PluginInfo plugin, String pid, String configurationPolicy, List<Ref> references) {
        this.plugin = Objects.requireNonNull(plugin);
        this.pid = Objects.requireNonNull(pid);
        this.configurationPolicy = configurationPolicy == null ? "optional" : configurationPolicy;
        this.references = List.copyOf(references);
    }

    public String name() {
        return plugin.name();
    }

    public PluginInfo plugin() {
        return plugin;
    }

    /** The configuration PID the pipeline creates factory configurations for. */
    public String pid() {
        return pid;
    }

    /** {@code require}, {@code optional} or {@code ignore}. */
    public String configurationPolicy() {
        return configurationPolicy;
    }

    public List<Ref> references() {
        return references;
    }

    public Optional<Ref> reference(String name) {
        return references.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return plugin.toString();
    }
}
