package org.align4j.training;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.Transformer;
import org.align4j.api.train.TrainingContext;
import org.tensorflow.Graph;
import org.tensorflow.Session;

/** What a {@link TrainingMethod} sees of a running stage: its context, graph, session and models. */
public final class StageRun {

    /** The models of a run by name, in the order they were declared. */
    public static final class Models {
        private final Map<String, Transformer> byName = new LinkedHashMap<>();
        private final Map<String, ModelSpec> specs = new LinkedHashMap<>();

        void add(ModelSpec spec, Transformer model) {
            specs.put(spec.name(), spec);
            byName.put(spec.name(), model);
        }

        /** The model named {@code name}; fails listing the names there are. */
        public Transformer get(String name) {
            Transformer t = byName.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no model named \"" + name + "\" in this run (declared: "
                        + byName.keySet() + ")");
            }
            return t;
        }

        public ModelSpec spec(String name) {
            get(name);
            return specs.get(name);
        }

        public Map<String, Transformer> all() {
            return Collections.unmodifiableMap(byName);
        }
    }

    private final TrainingContext context;
    private final Graph graph;
    private final Session session;
    private final Models models;
    private final long totalSteps;
    private volatile String stop;

    StageRun(TrainingContext context, Graph graph, Session session, Models models, long totalSteps) {
        this.context = context;
        this.graph = graph;
        this.session = session;
        this.models = models;
        this.totalSteps = totalSteps;
    }

    public TrainingContext context() {
        return context;
    }

    public Graph graph() {
        return graph;
    }

    public Session session() {
        return session;
    }

    public Models models() {
        return models;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** The stage's own directory. */
    public Path workDir() {
        return context.workDir();
    }

    /**
     * Asks the loop to stop before the coming update, checkpointing there (e.g. a method that waited too long for a
     * service it needs, or a monitor that pauses the run); {@code why} goes into the message and the result. Called
     * from {@link TrainingMethod#beforeStep}.
     *
     * @since 1.3
     */
    public void requestStop(String why) {
        stop = java.util.Objects.requireNonNull(why, "why");
    }

    /** Why the method asked to stop; {@code null} when it did not. */
    String stopRequest() {
        return stop;
    }

    /** Publishes a message event at {@code step}. */
    public void message(long step, String text) {
        context.publish(context.event(TrainingEvent.Kind.MESSAGE).step(step).message(text).build());
    }
}
