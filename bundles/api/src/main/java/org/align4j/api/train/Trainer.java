package org.align4j.api.train;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A training method (pre-training, SFT, reward modelling, DPO, PPO), registered with {@link TrainerService}.
 *
 * <p>A trainer is a DS component with a <em>required factory configuration</em>: for each stage of a run the pipeline
 * creates a configuration for the trainer's PID holding {@value #RUN} and the target filters of the trainer's
 * references named below ({@code loss.target}, {@code optimizer.target}, ...). Declarative Services then binds the
 * named plugins and registers the configured trainer, which the pipeline calls. References that the trainer may swap
 * while running are dynamic and greedy; it reads each once per boundary (between steps, between rollouts).
 */
@ConsumerType
public interface Trainer {

    /** Service property: the name pipelines select the trainer by, e.g. {@code pretrain}. */
    String NAME = "align4j.name";
    /** Configuration and service property: the stage this instance was configured for, {@code <run>/<index>}. */
    String RUN = "align4j.run";

    /** Reference name (and {@code <name>.target} configuration key) of the loss. */
    String LOSS = "loss";
    /** Reference name of the optimizer. */
    String OPTIMIZER = "optimizer";
    /** Reference name of the learning-rate schedule. */
    String SCHEDULE = "schedule";
    /** Reference name of the attention kernel. */
    String ATTENTION = "attention";
    /** Reference name of the reward model. */
    String REWARD = "reward";

    /**
     * Configuration key: the reward model a stage names ({@code reward_model:}, flattened under {@code stage.}). A
     * trainer that takes a switch while it runs (a {@code @Modified} method; the run service's
     * {@code retargetReward}) reads {@link #REWARD_MODEL_NAME} and {@link #REWARD_MODEL_VERSION} when they are set.
     *
     * @since 1.2
     */
    String REWARD_MODEL = "stage.reward_model";
    /** Configuration key: the reward model a running stage switches to. @since 1.2 */
    String REWARD_MODEL_NAME = "stage.reward_model.name";
    /** Configuration key: the version it switches to; absent for the newest. @since 1.2 */
    String REWARD_MODEL_VERSION = "stage.reward_model.version";

    /**
     * Runs the stage to its end, or until {@link TrainingContext#stopRequested()}, when it writes a checkpoint and
     * returns {@link TrainingResult.Status#STOPPED}. Resumes from the newest checkpoint in its working directory.
     *
     * @throws Exception with a message that says what went wrong and what to do about it
     */
    TrainingResult train(TrainingContext context) throws Exception;
}
