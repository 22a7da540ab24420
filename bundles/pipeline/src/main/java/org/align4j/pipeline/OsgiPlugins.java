package org.align4j.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import org.align4j.pipeline.internal.PluginInfo;
import org.align4j.pipeline.internal.PluginKind;
import org.align4j.pipeline.internal.Plugins;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * {@link Plugins} on the service registry: each plugin a run uses is held by a {@link ServiceTracker} (which also
 * does the waiting for plugins still starting) until the run ends.
 */
final class OsgiPlugins implements Plugins {
    private final BundleContext context;
    private final Map<String, ServiceTracker<Object, Object>> trackers = new LinkedHashMap<>();

    OsgiPlugins(BundleContext context) {
        this.context = context;
    }

    @Override
    public List<PluginInfo> registered(PluginKind kind) {
        return infos(context, "(&(" + Constants.OBJECTCLASS + "=" + kind.objectClass() + ")(align4j.name=*))");
    }

    /** Every service with {@code align4j.name} and an {@code org.align4j.api} type, one row per such type. */
    static List<PluginInfo> all(BundleContext context) {
        List<PluginInfo> out = new ArrayList<>();
        for (PluginInfo p : infos(context, "(align4j.name=*)")) {
            for (String type : p.types()) {
                if (type.startsWith("org.align4j.api.")) {
                    out.add(new PluginInfo(p.name(), List.of(type), p.bundle(), p.version())
                            .withSupports(p.supports()).withRanking(p.ranking()));
                }
            }
        }
        return out;
    }

    private static List<PluginInfo> infos(BundleContext context, String filter) {
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(null, filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException("bad filter " + filter + ": " + e.getMessage(), e);
        }
        TreeSet<PluginInfo> out = new TreeSet<>();
        if (refs != null) {
            for (ServiceReference<?> r : refs) {
                PluginInfo p = info(r);
                if (p != null) {
                    out.add(p);
                }
            }
        }
        return new ArrayList<>(out);
    }

    private static PluginInfo info(ServiceReference<?> r) {
        Object name = r.getProperty("align4j.name");
        String[] types = (String[]) r.getProperty(Constants.OBJECTCLASS);
        Bundle b = r.getBundle();
        if (name == null || types == null || b == null) {
            return null; // unregistered meanwhile
        }
        String n = name instanceof String[] ? String.join(",", (String[]) name) : String.valueOf(name);
        return new PluginInfo(n, Arrays.asList(types), b.getSymbolicName(), b.getVersion().toString())
                .withSupports(PluginInfo.strings(r.getProperty("align4j.supports")))
                .withRanking(r.getProperty(Constants.SERVICE_RANKING) instanceof Integer rank ? rank : 0);
    }

    /**
     * How long {@link #await} waits beyond its given wait while no plugin of the kind is registered at all: the
     * framework is still starting its bundles (on a loaded machine that can take longer than the configured wait),
     * not a misspelt name, which fails after the configured wait.
     */
    static final long STARTING_WAIT_MILLIS = 60_000;

    @Override
    public synchronized Optional<PluginInfo> await(PluginKind kind, String name, Duration wait) {
        ServiceTracker<Object, Object> t = tracker(kind, name);
        try {
            if (t.getService() == null && t.waitForService(Math.max(1, wait.toMillis())) == null
                    && (!registered(kind).isEmpty() || t.waitForService(STARTING_WAIT_MILLIS) == null)) {
                return Optional.empty();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
        ServiceReference<Object> ref = t.getServiceReference();
        return ref == null ? Optional.empty() : Optional.ofNullable(info(ref));
    }

    @Override
    public synchronized <T> T get(PluginKind kind, String name, Class<T> type) {
        Object service = tracker(kind, name).getService();
        if (service == null) {
            throw new IllegalStateException("the " + kind + " \"" + name + "\" is not registered (any more): its"
                    + " bundle stopped or was updated; registered now: " + registered(kind));
        }
        if (!type.isInstance(service)) {
            throw new IllegalStateException("the " + kind + " \"" + name + "\" is a " + service.getClass().getName()
                    + ", not a " + type.getName() + " (registered under " + kind.objectClass() + ")");
        }
        return type.cast(service);
    }

    @Override
    public synchronized <T> Optional<T> service(Class<T> type, Duration wait) {
        String key = "class:" + type.getName();
        ServiceTracker<Object, Object> t = trackers.get(key);
        if (t == null) {
            t = new ServiceTracker<>(context, type.getName(), null);
            t.open();
            trackers.put(key, t);
        }
        try {
            Object s = t.getService() != null ? t.getService() : t.waitForService(Math.max(1, wait.toMillis()));
            return Optional.ofNullable(type.isInstance(s) ? type.cast(s) : null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private ServiceTracker<Object, Object> tracker(PluginKind kind, String name) {
        String key = kind.objectClass() + "\u0000" + name;
        ServiceTracker<Object, Object> t = trackers.get(key);
        if (t == null) {
            try {
                t = new ServiceTracker<>(context, context.createFilter(kind.filter(name)), null);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException("bad plugin name \"" + name + "\": " + e.getMessage(), e);
            }
            t.open();
            trackers.put(key, t);
        }
        return t;
    }

    @Override
    public synchronized void close() {
        for (ServiceTracker<Object, Object> t : trackers.values()) {
            try {
                t.close();
            } catch (IllegalStateException e) {
                // our bundle is stopping: the framework releases the services anyway
            }
        }
        trackers.clear();
    }
}
