package org.align4j.training;

import java.util.List;
import java.util.Map;

import org.align4j.api.model.TensorData;
import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.op.Ops;

/**
 * A training method on the shared loop: what a trainer bundle writes (TRL's {@code compute_loss}, as a contract
 * instead of a subclass). The {@link TrainingLoop} calls it in this order:
 * <ol>
 * <li>{@link #models()}: the models of the run;</li>
 * <li>{@link #build}: once, the method's placeholders and loss on the models;</li>
 * <li>after the weights are initialised or restored: {@link #restore} with the method's saved state (resume only);</li>
 * <li>for each step: {@link #beforeStep} (work between steps, e.g. rollouts), then {@link #batch} (the step's
 * feeds), one optimizer update, and {@link #stepMetrics};</li>
 * <li>at the evaluation cadence and at the end: {@link #evaluate};</li>
 * <li>at each checkpoint: {@link #state};</li>
 * <li>at the end, after the final weights are written: {@link #finish}.</li>
 * </ol>
 * Everything that must be reproducible on resume is a function of (seed, step) or goes into {@link #state}.
 */
@ConsumerType
public interface TrainingMethod {

    /** The method's name, e.g. {@code sft}: in messages and in checkpoints. */
    String name();

    /** The models of the run, trained or frozen; names are unique. */
    List<ModelSpec> models();

    /** Adds the method's inputs and loss to the graph of {@code tf}; {@code models} holds every declared model. */
    Objective build(Ops tf, StageRun.Models models);

    /** The feeds of training step {@code step} (0-based); the loop closes them after the update. */
    Feeds batch(long step);

    /** Tokens a training step processes (for {@code train_tokens_per_second}); 0 when not meaningful. */
    long tokensPerStep();

    /** The epoch reached after {@code step} steps (fractional), or NaN. */
    default double epoch(long step) {
        return Double.NaN;
    }

    /** Work before step {@code step}'s update (e.g. PPO's rollouts), with the session at hand. */
    default void beforeStep(StageRun run, long step) throws Exception {
    }

    /**
     * Called after every step's update with the values fetched in it ({@code loss}, {@code grad_norm}, the
     * objective's metrics), also between the steps that publish events (e.g. to average a metric over an iteration).
     *
     * @param step the step just done (0-based)
     * @since 1.3
     */
    default void afterStep(long step, Map<String, Double> fetched) {
    }

    /**
     * Metrics derived from the fetched ones of a step ({@code loss}, {@code grad_norm}, the objective's metrics),
     * published after them, e.g. {@code perplexity}.
     */
    default Map<String, Double> stepMetrics(Map<String, Double> fetched) {
        return Map.of();
    }

    /**
     * Evaluates the current models; {@code last} for the final evaluation after the last step (which should cover the
     * whole validation split). Returns metrics such as {@code eval_loss}; the loop publishes them.
     */
    default Map<String, Double> evaluate(StageRun run, long step, boolean last) throws Exception {
        return Map.of();
    }

    /** The method's own state for a checkpoint (e.g. an adaptive KL controller); strings, saved as they are. */
    default Map<String, String> state() {
        return Map.of();
    }

    /** Restores what {@link #state} saved (called when resuming, before the first step). */
    default void restore(Map<String, String> state) {
    }

    /**
     * The method's own tensors for a checkpoint (e.g. PPO's rollout in progress, so a run stopped inside an iteration
     * resumes inside it), saved with the models under {@code method/<key>}; float32 (token ids below 2^24 are exact).
     *
     * @since 1.3
     */
    default Map<String, TensorData> stateTensors() {
        return Map.of();
    }

    /**
     * Restores what {@link #stateTensors} saved (called when resuming, after {@link #restore}; empty when the
     * checkpoint has none).
     *
     * @since 1.3
     */
    default void restoreTensors(Map<String, TensorData> tensors) {
    }

    /**
     * Text attributes of the metrics the next events report (e.g. {@code reward_model}: the name and version that
     * scored the rollouts), added as labels to every {@code STEP} and {@code EVALUATION} event.
     *
     * @since 1.3
     */
    default Map<String, String> labels() {
        return Map.of();
    }

    /** After the last step and the final weights: samples or other outputs to report. */
    default List<String> finish(StageRun run) throws Exception {
        return List.of();
    }
}
