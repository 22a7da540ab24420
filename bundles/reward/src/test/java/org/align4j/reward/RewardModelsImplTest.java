package org.align4j.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.reward.Scored;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;

/**
 * The DS component on a minimal fake {@link BundleContext} (proxies): its tracker follows registrations and
 * unregistrations, each call gets the service from its reference and ungets it, and the configuration is read.
 */
class RewardModelsImplTest {

    /** A registry behind a {@link BundleContext} proxy: enough for a {@code ServiceTracker} and get/unget. */
    static final class Context {
        final List<ServiceListener> listeners = new CopyOnWriteArrayList<>();
        final List<ServiceReference<?>> refs = new CopyOnWriteArrayList<>();
        final Map<ServiceReference<?>, Object> services = new ConcurrentHashMap<>();
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger ungets = new AtomicInteger();
        final AtomicInteger ids = new AtomicInteger(10);
        final BundleContext context = (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "addServiceListener":
                            listeners.add((ServiceListener) args[0]);
                            return null;
                        case "removeServiceListener":
                            listeners.remove(args[0]);
                            return null;
                        case "getServiceReferences":
                        case "getAllServiceReferences":
                            return refs.isEmpty() ? null : refs.toArray(new ServiceReference<?>[0]);
                        case "getService":
                            gets.incrementAndGet();
                            return services.get(args[0]);
                        case "createFilter":
                            return org.osgi.framework.FrameworkUtil.createFilter((String) args[0]);
                        case "ungetService":
                            ungets.incrementAndGet();
                            return true;
                        default:
                            throw new UnsupportedOperationException(m.getName());
                    }
                });

        ServiceReference<?> register(String name, String version, RewardModel model) {
            Map<String, Object> props = new TreeMap<>();
            props.put(RewardModel.NAME, name);
            props.put(RewardModel.VERSION, version);
            props.put(RewardModel.ASPECT, "overall");
            props.put(Constants.SERVICE_ID, (long) ids.incrementAndGet());
            props.put(Constants.OBJECTCLASS, new String[] {RewardModel.class.getName()});
            Bundle bundle = (Bundle) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Bundle.class},
                    (p, m, a) -> m.getName().equals("getSymbolicName") ? "org.test." + name : null);
            ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ServiceReference.class}, (p, m, a) -> {
                        switch (m.getName()) {
                            case "getProperty":
                                return props.get(a[0]);
                            case "getPropertyKeys":
                                return props.keySet().toArray(new String[0]);
                            case "getBundle":
                                return bundle;
                            case "hashCode":
                                return System.identityHashCode(p);
                            case "equals":
                                return p == a[0];
                            case "compareTo":
                                return Long.compare((Long) props.get(Constants.SERVICE_ID),
                                        (Long) ((ServiceReference<?>) a[0]).getProperty(Constants.SERVICE_ID));
                            default:
                                throw new UnsupportedOperationException(m.getName());
                        }
                    });
            refs.add(ref);
            services.put(ref, model);
            listeners.forEach(l -> l.serviceChanged(new ServiceEvent(ServiceEvent.REGISTERED, ref)));
            return ref;
        }

        void unregister(ServiceReference<?> ref) {
            listeners.forEach(l -> l.serviceChanged(new ServiceEvent(ServiceEvent.UNREGISTERING, ref)));
            refs.remove(ref);
            services.remove(ref);
        }
    }

    static RewardModelsImpl.Config config(String timeout, int retries) {
        return (RewardModelsImpl.Config) Proxy.newProxyInstance(RewardModelsImpl.Config.class.getClassLoader(),
                new Class<?>[] {RewardModelsImpl.Config.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "timeout":
                            return timeout;
                        case "retries":
                            return retries;
                        case "annotationType":
                            return RewardModelsImpl.Config.class;
                        default:
                            throw new UnsupportedOperationException(m.getName());
                    }
                });
    }

    static final List<PromptCompletion> BATCH = List.of(new PromptCompletion("p", "c"));

    @Test
    void followsRegistrationsAndGetsEachServicePerCall() throws Exception {
        Context c = new Context();
        ServiceReference<?> v1 = c.register("rm", "1", batch -> RewardScores.of(1f));
        RewardModelsImpl impl = new RewardModelsImpl(c.context, config("30s", 2));
        try {
            RewardModels.Lease lease = impl.lease("rm", Optional.empty());
            Scored first = lease.score(BATCH);
            assertEquals("rm 1 [org.test.rm]", first.model().toString());
            assertEquals(1, c.gets.get());
            assertEquals(1, c.ungets.get());

            c.register("rm", "2", batch -> RewardScores.of(2f));
            assertArrayEquals(new float[] {2f}, lease.score(BATCH).scores().scores());
            c.unregister(v1);
            assertEquals("rm 2 [org.test.rm]", lease.current().orElseThrow().toString());
            assertEquals(List.of("rm 2 [org.test.rm]"), impl.models("(align4j.name=rm)").stream()
                    .map(Object::toString).toList());
            assertEquals(c.gets.get(), c.ungets.get());
            RewardModelException e = assertThrows(RewardModelException.class,
                    () -> impl.lease("other", Optional.empty()));
            assertEquals("no reward model named \"other\" (registered: rm 2 [org.test.rm]); install or configure it,"
                    + " or correct the name", e.getMessage());
        } finally {
            impl.deactivate();
        }
        assertTrue(c.listeners.isEmpty(), "the tracker is closed");
    }

    @Test
    void awaitLeaseWaitsForAModelThatRegistersLater() throws Exception {
        Context c = new Context();
        RewardModelsImpl impl = new RewardModelsImpl(c.context, config("30s", 2));
        try {
            Thread late = new Thread(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                }
                c.register("late-rm", "1", batch -> RewardScores.of(7f));
            });
            late.start();
            long start = System.nanoTime();
            RewardModels.Lease lease = impl.awaitLease("late-rm", Optional.empty(), java.time.Duration.ofSeconds(30));
            assertTrue(System.nanoTime() - start >= 250_000_000L, "it waited for the registration");
            assertArrayEquals(new float[] {7f}, lease.score(BATCH).scores().scores());
            late.join();

            // none registers: the lease's own error, after the wait
            start = System.nanoTime();
            RewardModelException e = assertThrows(RewardModelException.class,
                    () -> impl.awaitLease("never", Optional.empty(), java.time.Duration.ofMillis(300)));
            assertTrue(System.nanoTime() - start >= 300_000_000L, "it waited the whole time");
            assertTrue(e.getMessage().startsWith("no reward model named \"never\" (registered: late-rm 1"),
                    e.getMessage());
        } finally {
            impl.deactivate();
        }
    }

    @Test
    void aBadConfigurationSaysWhichKey() {
        Context c = new Context();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RewardModelsImpl(c.context, config("-1s", 2)));
        assertEquals("org.align4j.reward.models: timeout: expected a positive duration like 30s, 500ms or 2m, got"
                + " \"-1s\"", e.getMessage());
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class,
                () -> new RewardModelsImpl(c.context, config("1s", -1)));
        assertEquals("org.align4j.reward.models: retries: expected 0 or more, got -1", r.getMessage());
    }
}
