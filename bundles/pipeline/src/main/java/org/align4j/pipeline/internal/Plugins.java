package org.align4j.pipeline.internal;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The plugins one run uses, looked up by kind and name. In OSGi this is the service registry (services tracked until
 * {@link #close()}); in tests, plain objects.
 */
public interface Plugins extends AutoCloseable {

    /** Every registered plugin of {@code kind}, sorted by name (for messages). */
    List<PluginInfo> registered(PluginKind kind);

    /**
     * The plugin of {@code kind} named {@code name}, waiting up to {@code wait} for it to be registered (services may
     * still be starting); empty when none appeared.
     */
    Optional<PluginInfo> await(PluginKind kind, String name, Duration wait);

    /**
     * The service object of the plugin of {@code kind} named {@code name}, after {@link #await} found it.
     *
     * @throws IllegalStateException when it is not (or no longer) registered
     */
    <T> T get(PluginKind kind, String name, Class<T> type);

    /** A service that is not selected by name (e.g. {@code TextDatasets}); empty when none appeared in time. */
    <T> Optional<T> service(Class<T> type, Duration wait);

    /** Releases every service got through this object. */
    @Override
    void close();
}
