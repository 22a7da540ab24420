package org.align4j.pipeline.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.align4j.api.train.Trainer;

/**
 * A registry of plain objects standing in for the OSGi service registry and Declarative Services: what the engine
 * sees through {@link Plugins} and {@link Trainers}. It records the stage configurations it was asked to create and
 * whether each was deleted again.
 */
final class FakeRegistry implements Plugins, Trainers {

    private static final class Entry {
        final PluginInfo info;
        final Object service;

        Entry(PluginInfo info, Object service) {
            this.info = info;
            this.service = service;
        }
    }

    /** A stage configuration as created by {@link #start}. */
    static final class Config {
        final String pid;
        final String name;
        final Map<String, Object> properties;
        boolean deleted;

        Config(String pid, String name, Map<String, Object> properties) {
            this.pid = pid;
            this.name = name;
            this.properties = new LinkedHashMap<>(properties);
        }
    }

    private final List<Entry> services = new ArrayList<>();
    private final Map<Class<?>, Object> unnamed = new LinkedHashMap<>();
    private final Map<String, TrainerInfo> trainerInfos = new LinkedHashMap<>();
    private final Map<String, Trainer> trainerObjects = new LinkedHashMap<>();
    final List<Config> configs = new ArrayList<>();
    final List<Duration> waits = new ArrayList<>();
    int closed;
    /** What a stage's {@link Stage#stopCause()} says. */
    volatile String stopCause;
    /** What the stage started last asked to hear when its trainer goes away. */
    private volatile Consumer<String> onGone;
    /** When set, {@link #start} fails with this message (the trainer did not appear). */
    String startFailure;

    /** As if the trainer of the running stage were unregistered, for the reason given ({@code null}: unknown). */
    void trainerGone(String why) {
        onGone.accept(why);
    }

    FakeRegistry add(String type, String name, String bundle, Object service) {
        services.add(new Entry(new PluginInfo(name, List.of(type), bundle, "0.1.0"), service));
        return this;
    }

    /** A service with an {@code align4j.supports} property (an attention kernel's abilities). */
    FakeRegistry add(String type, String name, String bundle, Object service, String... supports) {
        services.add(new Entry(new PluginInfo(name, List.of(type), bundle, "0.1.0").withSupports(List.of(supports)),
                service));
        return this;
    }

    /** A service with a {@code service.ranking} and an {@code align4j.supports} property. */
    FakeRegistry ranked(String type, String name, String bundle, int ranking, String... supports) {
        services.add(new Entry(new PluginInfo(name, List.of(type), bundle, "0.1.0").withSupports(List.of(supports))
                .withRanking(ranking), new Object()));
        return this;
    }

    FakeRegistry addUnnamed(Class<?> type, Object service) {
        unnamed.put(type, service);
        return this;
    }

    FakeRegistry trainer(String name, String bundle, Trainer trainer, TrainerInfo.Ref... refs) {
        TrainerInfo info = new TrainerInfo(new PluginInfo(name, List.of(Trainer.class.getName()), bundle, "0.1.0"),
                "org.align4j.trainer." + name, "require", List.of(refs));
        trainerInfos.put(name, info);
        trainerObjects.put(name, trainer);
        return this;
    }

    FakeRegistry trainer(TrainerInfo info, Trainer trainer) {
        trainerInfos.put(info.name(), info);
        trainerObjects.put(info.name(), trainer);
        return this;
    }

    @Override
    public List<PluginInfo> registered(PluginKind kind) {
        List<PluginInfo> out = new ArrayList<>();
        for (Entry e : services) {
            if (e.info.types().stream().anyMatch(kind::matches)) {
                out.add(e.info);
            }
        }
        out.sort(null);
        return out;
    }

    @Override
    public Optional<PluginInfo> await(PluginKind kind, String name, Duration wait) {
        waits.add(wait);
        return find(kind, name).map(e -> e.info);
    }

    private Optional<Entry> find(PluginKind kind, String name) {
        return services.stream()
                .filter(e -> e.info.name().equals(name) && e.info.types().stream().anyMatch(kind::matches))
                .findFirst();
    }

    @Override
    public <T> T get(PluginKind kind, String name, Class<T> type) {
        return type.cast(find(kind, name).orElseThrow(() -> new IllegalStateException("not registered: " + name))
                .service);
    }

    @Override
    public <T> Optional<T> service(Class<T> type, Duration wait) {
        return Optional.ofNullable(type.cast(unnamed.get(type)));
    }

    @Override
    public void close() {
        closed++;
    }

    @Override
    public List<TrainerInfo> registered() {
        return new ArrayList<>(trainerInfos.values());
    }

    @Override
    public Optional<TrainerInfo> await(String name, Duration wait) {
        return Optional.ofNullable(trainerInfos.get(name));
    }

    @Override
    public Stage start(TrainerInfo trainer, String configName, Map<String, Object> properties, Duration wait,
            Consumer<String> onGone) {
        Config c = new Config(trainer.pid(), configName, properties);
        configs.add(c);
        this.onGone = onGone;
        if (startFailure != null) {
            c.deleted = true;
            throw new IllegalStateException(startFailure);
        }
        Trainer t = trainerObjects.get(trainer.name());
        return new Stage() {
            @Override
            public Trainer trainer() {
                return t;
            }

            @Override
            public String stopCause() {
                return stopCause;
            }

            @Override
            public void close() {
                c.deleted = true;
            }
        };
    }
}
