package org.align4j.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * What a {@link TrainingMethod} builds into the graph: the loss it reports (metric {@code loss}), the losses its
 * optimizers minimise (one per optimizer group; by default one group, {@code policy}, minimising the reported loss over
 * every trainable model), and further scalar metrics fetched at every step (TRL's names, e.g.
 * {@code rewards/accuracies}).
 */
public final class Objective {

    /** One optimizer: the loss it minimises and the models whose parameters it updates. */
    public static final class Group {
        private final String name;
        private final Operand<TFloat32> loss;
        private final List<String> models;

        Group(String name, Operand<TFloat32> loss, List<String> models) {
            this.name = name;
            this.loss = loss;
            this.models = List.copyOf(models);
        }

        /** The group's name: the optimizer settings it takes and the prefix of its saved state. */
        public String name() {
            return name;
        }

        public Operand<TFloat32> loss() {
            return loss;
        }

        /** The models it trains; empty for every trainable model. */
        public List<String> models() {
            return models;
        }
    }

    private final Operand<TFloat32> loss;
    private final List<Group> groups = new ArrayList<>();
    private final Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();

    private Objective(Operand<TFloat32> loss) {
        this.loss = Objects.requireNonNull(loss, "loss");
    }

    /** Minimise {@code loss} ({@code []}) over every trainable model with one optimizer. */
    public static Objective minimize(Operand<TFloat32> loss) {
        return new Objective(loss);
    }

    /**
     * An optimizer group of its own (PPO's policy and value): minimise {@code groupLoss} over {@code models}. Once a
     * group is added, only the added groups are trained.
     */
    public Objective group(String name, Operand<TFloat32> groupLoss, String... models) {
        for (Group g : groups) {
            if (g.name.equals(name)) {
                throw new IllegalArgumentException("optimizer group \"" + name + "\" is added twice");
            }
        }
        groups.add(new Group(name, Objects.requireNonNull(groupLoss, "groupLoss"), List.of(models)));
        return this;
    }

    /** A scalar ({@code []}) fetched with every step and published under {@code name}. */
    public Objective metric(String name, Operand<TFloat32> value) {
        metrics.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** The reported loss. */
    public Operand<TFloat32> loss() {
        return loss;
    }

    /** The optimizer groups; one {@code policy} group over every trainable model when none was added. */
    public List<Group> groups() {
        return groups.isEmpty() ? List.of(new Group(ModelSpec.POLICY, loss, List.of())) : List.copyOf(groups);
    }

    public Map<String, Operand<TFloat32>> metrics() {
        return java.util.Collections.unmodifiableMap(metrics);
    }
}
