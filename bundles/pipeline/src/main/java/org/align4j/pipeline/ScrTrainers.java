package org.align4j.pipeline;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

import org.align4j.api.train.Trainer;
import org.align4j.pipeline.internal.PipelinePlan;
import org.align4j.pipeline.internal.PluginInfo;
import org.align4j.pipeline.internal.TrainerInfo;
import org.align4j.pipeline.internal.Trainers;
import org.align4j.pipeline.internal.Texts;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.ReferenceDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * {@link Trainers} on Declarative Services: trainers are found among the component descriptions (a trainer with a
 * required configuration has no service until the pipeline configures it), each stage gets a ConfigAdmin factory
 * configuration, and when the configured trainer does not appear the component's DTOs say why.
 */
final class ScrTrainers implements Trainers {
    private static final long POLL_MILLIS = 100;

    private final BundleContext context;
    private final ServiceComponentRuntime scr;
    private final ConfigurationAdmin configAdmin;

    ScrTrainers(BundleContext context, ServiceComponentRuntime scr, ConfigurationAdmin configAdmin) {
        this.context = context;
        this.scr = scr;
        this.configAdmin = configAdmin;
    }

    @Override
    public List<TrainerInfo> registered() {
        List<TrainerInfo> out = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            TrainerInfo t = info(d);
            if (t != null) {
                out.add(t);
            }
        }
        out.sort((a, b) -> a.plugin().compareTo(b.plugin()));
        return out;
    }

    /** The trainer a component description declares, or {@code null} when it is not a named trainer. */
    static TrainerInfo info(ComponentDescriptionDTO d) {
        if (d.serviceInterfaces == null || !Arrays.asList(d.serviceInterfaces).contains(Trainer.class.getName())) {
            return null;
        }
        Object name = d.properties == null ? null : d.properties.get(Trainer.NAME);
        if (name == null) {
            return null;
        }
        List<TrainerInfo.Ref> refs = new ArrayList<>();
        if (d.references != null) {
            for (ReferenceDTO r : d.references) {
                refs.add(new TrainerInfo.Ref(r.name, r.interfaceName, r.cardinality, r.policy));
            }
        }
        String pid = d.configurationPid != null && d.configurationPid.length > 0 ? d.configurationPid[0] : d.name;
        PluginInfo plugin = new PluginInfo(String.valueOf(name), Arrays.asList(d.serviceInterfaces),
                d.bundle == null ? null : d.bundle.symbolicName, d.bundle == null ? null : d.bundle.version);
        return new TrainerInfo(plugin, pid, d.configurationPolicy, refs);
    }

    @Override
    public Optional<TrainerInfo> await(String name, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            for (TrainerInfo t : registered()) {
                if (t.name().equals(name)) {
                    return Optional.of(t);
                }
            }
            if (System.nanoTime() >= deadline) {
                return Optional.empty();
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    @Override
    public Stage start(TrainerInfo trainer, String configName, Map<String, Object> properties, Duration wait,
            Consumer<String> onGone) throws Exception {
        String run = String.valueOf(properties.get(Trainer.RUN));
        Configuration config = configAdmin.getFactoryConfiguration(trainer.pid(), configName, "?");
        config.update(new Hashtable<>(properties));
        boolean[] closing = {false};
        String filter = "(&(" + Constants.OBJECTCLASS + "=" + Trainer.class.getName() + ")(" + Trainer.RUN + "="
                + Texts.filterValue(run) + "))";
        ServiceTracker<Trainer, Trainer> tracker = new ServiceTracker<>(context, context.createFilter(filter), null) {
            @Override
            public void removedService(ServiceReference<Trainer> reference, Trainer service) {
                super.removedService(reference, service);
                if (!closing[0]) {
                    onGone.accept(shutdown());
                }
            }
        };
        Runnable cleanup = () -> {
            closing[0] = true;
            tracker.close();
            try {
                config.delete();
            } catch (IOException | IllegalStateException e) {
                // already deleted, or ConfigAdmin went away: nothing is left to clean up
            }
        };
        Trainer service;
        try {
            tracker.open();
            service = tracker.waitForService(Math.max(1, wait.toMillis()));
        } catch (InterruptedException e) {
            cleanup.run();
            throw e;
        }
        if (service == null) {
            String why = explain(trainer, run, wait);
            cleanup.run();
            throw new IllegalStateException(why);
        }
        return new Stage() {
            @Override
            public Trainer trainer() {
                return service;
            }

            @Override
            public String stopCause() {
                return shutdown();
            }

            @Override
            public void close() {
                cleanup.run();
            }
        };
    }

    /**
     * Re-targets the reward model of a running stage: updates its configuration with
     * {@link Trainer#REWARD_MODEL_NAME} (and its version), which the trainer's {@code @Modified} method takes at
     * its next rollout. Refused when the trainer's component has no modified method: Declarative Services would
     * otherwise restart it, ending the stage.
     */
    void retarget(String run, PipelinePlan.Stage stage, String name, String version) {
        String trainerName = stage.trainerInfo().name();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            TrainerInfo t = info(d);
            if (t != null && t.name().equals(trainerName) && (d.modified == null || d.modified.isEmpty())) {
                throw new IllegalStateException("trainer " + trainerName + " (bundle " + t.plugin().bundle()
                        + ") does not take configuration changes while it runs (its component has no modified"
                        + " method), so its reward model cannot be switched; stop the run and start it again with"
                        + " stages." + stage.index() + ".reward_model=" + name);
            }
        }
        String key = run + "/" + stage.index();
        try {
            Configuration[] found = configAdmin.listConfigurations("(" + Trainer.RUN + "=" + Texts.filterValue(key)
                    + ")");
            if (found == null || found.length == 0) {
                throw new IllegalStateException("stage " + stage.label() + " of run " + run + " has no configuration"
                        + " (it has ended or not started yet)");
            }
            for (Configuration c : found) {
                Dictionary<String, Object> props = c.getProperties();
                props.put(Trainer.REWARD_MODEL_NAME, name);
                if (version == null || version.isBlank()) {
                    props.remove(Trainer.REWARD_MODEL_VERSION);
                } else {
                    props.put(Trainer.REWARD_MODEL_VERSION, version);
                }
                c.update(props);
            }
        } catch (IOException | InvalidSyntaxException e) {
            throw new IllegalStateException("could not update the configuration of stage " + stage.label() + ": "
                    + e.getMessage(), e);
        }
    }

    /** "align4j is shutting down" while the framework stops, else {@code null}. */
    private String shutdown() {
        try {
            return context.getBundle(0).getState() == Bundle.STOPPING ? "align4j is shutting down" : null;
        } catch (IllegalStateException stale) {
            return "align4j is shutting down"; // this bundle's context is no longer valid: it is stopping too
        }
    }

    private String explain(TrainerInfo trainer, String run, Duration wait) {
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            TrainerInfo t = info(d);
            if (t != null && t.plugin().equals(trainer.plugin())) {
                return explain(trainer, run, wait, d, scr.isComponentEnabled(d), scr.getComponentConfigurationDTOs(d),
                        this::servicesOf);
            }
        }
        return "trainer " + trainer + " did not register for stage " + run + " within " + seconds(wait)
                + ": its component is gone (was its bundle stopped or updated?)";
    }

    private List<PluginInfo> servicesOf(String type) {
        List<PluginInfo> out = new ArrayList<>();
        try {
            ServiceReference<?>[] refs = context.getAllServiceReferences(type, null);
            if (refs != null) {
                for (ServiceReference<?> r : refs) {
                    Object n = r.getProperty("align4j.name");
                    if (r.getBundle() != null) {
                        out.add(new PluginInfo(n == null ? "(unnamed)" : String.valueOf(n), List.of(type),
                                r.getBundle().getSymbolicName(), r.getBundle().getVersion().toString()));
                    }
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        out.sort(null);
        return out;
    }

    /**
     * Why the configured trainer for {@code run} is not registered, from the component's DTOs.
     *
     * @param servicesOf the registered services of an interface (to show what a target filter could have matched)
     */
    static String explain(TrainerInfo trainer, String run, Duration wait, ComponentDescriptionDTO d, boolean enabled,
            Collection<ComponentConfigurationDTO> configs, Function<String, List<PluginInfo>> servicesOf) {
        String head = "trainer " + trainer + " did not register for stage " + run + " within " + seconds(wait) + ": ";
        if (!enabled) {
            return head + "its component " + d.name + " is disabled; enable it (scr:enable " + d.name + ")";
        }
        ComponentConfigurationDTO mine = null;
        if (configs != null) {
            for (ComponentConfigurationDTO c : configs) {
                if (c.properties != null && run.equals(String.valueOf(c.properties.get(Trainer.RUN)))) {
                    mine = c;
                }
            }
        }
        if (mine == null) {
            return head + "Declarative Services made no instance of component " + d.name + " for the configuration"
                    + " (factory PID " + trainer.pid() + "); check that ConfigAdmin is running and that the"
                    + " component's configuration PID is " + trainer.pid();
        }
        switch (mine.state) {
            case ComponentConfigurationDTO.UNSATISFIED_REFERENCE: {
                StringBuilder b = new StringBuilder(head).append("it is waiting for ");
                UnsatisfiedReferenceDTO[] missing = mine.unsatisfiedReferences == null
                        ? new UnsatisfiedReferenceDTO[0] : mine.unsatisfiedReferences;
                for (int i = 0; i < missing.length; i++) {
                    UnsatisfiedReferenceDTO u = missing[i];
                    String iface = interfaceOf(d, u.name);
                    b.append(i == 0 ? "" : "; and for ").append("its reference \"").append(u.name).append("\" (")
                            .append(PluginInfo.simple(iface));
                    if (u.target != null) {
                        b.append(' ').append(u.target);
                    }
                    b.append("): ");
                    int matching = u.targetServices == null ? 0 : u.targetServices.length;
                    b.append(matching == 0 ? "no service matches" : matching + " matching service(s), not enough");
                    b.append(" (registered ").append(PluginInfo.simple(iface)).append(" services: ")
                            .append(Texts.list(servicesOf.apply(iface))).append(')');
                }
                if (missing.length == 0) {
                    b.append("a reference to be satisfied");
                }
                return b.toString();
            }
            case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION:
                return head + "its component " + d.name + " is still waiting for a configuration";
            case ComponentConfigurationDTO.FAILED_ACTIVATION:
                return head + "its activation failed: " + firstLines(mine.failure);
            default:
                return head + "its component " + d.name + " is " + (mine.state == ComponentConfigurationDTO.ACTIVE
                        ? "active" : "satisfied") + " but registered no " + Trainer.class.getName() + " service with "
                        + Trainer.RUN + "=" + run;
        }
    }

    private static String interfaceOf(ComponentDescriptionDTO d, String reference) {
        if (d.references != null) {
            for (ReferenceDTO r : d.references) {
                if (r.name.equals(reference)) {
                    return r.interfaceName;
                }
            }
        }
        return "?";
    }

    /** The message lines of a failure text, without its stack frames. */
    private static String firstLines(String failure) {
        if (failure == null || failure.isBlank()) {
            return "(no reason given)";
        }
        StringBuilder b = new StringBuilder();
        for (String line : failure.split("\\R")) {
            String t = line.trim();
            if (t.startsWith("at ") || t.startsWith("...")) {
                continue;
            }
            if (!t.isEmpty()) {
                b.append(b.length() == 0 ? "" : " / ").append(t);
            }
        }
        return b.toString();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
