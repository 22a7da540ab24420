package org.align4j.training;

import java.nio.file.Path;
import java.util.Objects;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.ModelConfig;

/**
 * One named model of a run: its name (which is also its variable scope and the prefix of its parameter names, e.g.
 * {@code policy.blocks.0.attn.q.weight}), its configuration, the attention kernel it is built with, whether the loop
 * trains it, and where its weights start.
 *
 * <p>Weights start from the run's seed unless {@link #initFrom} names a model folder ({@code model.safetensors} +
 * {@code config.json}, as a stage writes to {@code <stage>/model}) or the stage names one for the model
 * ({@code init: { reference: stage-1 }}, see {@link org.align4j.api.train.TrainingContext#init(String)}); the
 * folder's tensors are stored as {@code model.<name>} and are assigned to this model's parameters of the same local
 * name. A trainable model's weights are checkpointed and
 * written at the end; a frozen model (a reference or a reward model) is re-read from its source on resume.
 */
public final class ModelSpec {
    /** The name of the model a method trains (pre-training, SFT, DPO, PPO's policy). */
    public static final String POLICY = "policy";
    /** The frozen copy KL penalties and DPO compare with. */
    public static final String REFERENCE = "reference";
    /** A learned reward model. */
    public static final String REWARD = "reward";
    /** PPO's value model. */
    public static final String VALUE = "value";

    private final String name;
    private final ModelConfig config;
    private final AttentionKernel attention;
    private final boolean trainable;
    private final Path initFrom;
    private final String output;

    private ModelSpec(String name, ModelConfig config, AttentionKernel attention, boolean trainable, Path initFrom,
            String output) {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("model name \"" + name + "\": use lower-case letters, digits and '_'");
        }
        this.name = name;
        this.config = Objects.requireNonNull(config, "config");
        this.attention = Objects.requireNonNull(attention, "attention");
        this.trainable = trainable;
        this.initFrom = initFrom;
        this.output = output;
    }

    /** A model the loop trains; its final weights go to {@code <stage>/model}. */
    public static ModelSpec trained(String name, ModelConfig config, AttentionKernel attention) {
        return new ModelSpec(name, config, attention, true, null, "model");
    }

    /** A model the loop never updates. */
    public static ModelSpec frozen(String name, ModelConfig config, AttentionKernel attention) {
        return new ModelSpec(name, config, attention, false, null, null);
    }

    /** The same model, starting from the weights of {@code folder} (a model folder; {@code null}: from the seed). */
    public ModelSpec initFrom(Path folder) {
        return new ModelSpec(name, config, attention, trainable, folder, output);
    }

    /** The same model, written at the end to {@code <stage>/<folder>} ({@code null}: not written). */
    public ModelSpec output(String folder) {
        return new ModelSpec(name, config, attention, trainable, initFrom, folder);
    }

    public String name() {
        return name;
    }

    /** The variable scope and parameter-name prefix: {@code <name>.} */
    public String prefix() {
        return name + ".";
    }

    public ModelConfig config() {
        return config;
    }

    public AttentionKernel attention() {
        return attention;
    }

    public boolean trainable() {
        return trainable;
    }

    /** The model folder the weights start from, or {@code null} for the seed. */
    public Path initFrom() {
        return initFrom;
    }

    /** The folder under the stage directory the final weights are written to, or {@code null}. */
    public String output() {
        return output;
    }

    @Override
    public String toString() {
        return name + (trainable ? "" : " (frozen)") + (initFrom == null ? "" : " from " + initFrom);
    }
}
