package org.align4j.api.reward;

import java.util.Objects;

/**
 * Which reward-model service a score came from: its {@link RewardModel#NAME}, {@link RewardModel#VERSION} and
 * {@link RewardModel#ASPECT} properties, the symbolic name of the bundle that registered it, and its
 * {@code service.id}. {@link #toString()} is {@code name version [bundle]}, as error messages list them.
 */
public final class RewardModelInfo {
    private final String name;
    private final String version;
    private final String aspect;
    private final String bundle;
    private final long serviceId;

    public RewardModelInfo(String name, String version, String aspect, String bundle, long serviceId) {
        this.name = Objects.requireNonNull(name, "name");
        this.version = Objects.requireNonNull(version, "version");
        this.aspect = Objects.requireNonNull(aspect, "aspect");
        this.bundle = Objects.requireNonNull(bundle, "bundle");
        this.serviceId = serviceId;
    }

    public String name() {
        return name;
    }

    /** The version property, or the empty string when the service has none. */
    public String version() {
        return version;
    }

    /** The aspect property, or the empty string when the service has none. */
    public String aspect() {
        return aspect;
    }

    /** The symbolic name of the bundle that registered the service. */
    public String bundle() {
        return bundle;
    }

    public long serviceId() {
        return serviceId;
    }

    @Override
    public String toString() {
        return name + " " + (version.isEmpty() ? "(no version)" : version) + " [" + bundle + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RewardModelInfo && ((RewardModelInfo) o).serviceId == serviceId
                && ((RewardModelInfo) o).name.equals(name) && ((RewardModelInfo) o).version.equals(version)
                && ((RewardModelInfo) o).aspect.equals(aspect) && ((RewardModelInfo) o).bundle.equals(bundle);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, version, aspect, bundle, serviceId);
    }
}
