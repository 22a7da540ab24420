package org.align4j.api.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.align4j.api.data.Example;
import org.align4j.api.data.Record;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the pipeline hands a {@link Trainer} for one stage: its settings, the run's model settings, tokenizer and
 * data, a working directory of its own, the event bus, and the stop flag.
 */
@ProviderType
public interface TrainingContext {

    /** The run's name. */
    String run();

    /** The stage's label, {@code <index>:<trainer>}, e.g. {@code 0:pretrain}. */
    String stage();

    /** The stage's own directory (checkpoints, outputs); it exists. */
    Path workDir();

    /** The stage's section of the pipeline file ({@code stages[i]}). */
    Settings settings();

    /** The run's {@code model:} section with the stage's own {@code model:} keys over it. */
    Settings model();

    /**
     * The {@code data:} section the stage's records come from: the stage's own ({@code stages[i].data}) when it has
     * one, else the run's (e.g. {@code field}, the record field that holds a document's text).
     */
    Settings data();

    /**
     * The model folder the stage's trained model starts from ({@code model.safetensors} + {@code config.json}), when
     * the stage names one with {@code init:} (an earlier stage, {@code init: stage-0}, or a folder); empty when it
     * starts from the seed.
     *
     * @since 1.1
     */
    default Optional<Path> init() {
        return Optional.empty();
    }

    /**
     * The model folder the stage's model named {@code model} ({@code policy}, {@code reference}, {@code reward},
     * {@code value}, ...) starts from, when the stage names one ({@code init: { reference: stage-1 }}); for
     * {@code policy} the same as {@link #init()}.
     *
     * @since 1.1
     */
    default Optional<Path> init(String model) {
        return "policy".equals(model) ? init() : Optional.empty();
    }

    /** The run's seed; a trainer derives every random stream it needs from it. */
    long seed();

    Tokenizer tokenizer();

    /** The training split of the stage's data ({@link #data()}). */
    List<Record> train();

    /** The validation split of the stage's data (may be empty). */
    List<Record> validation();

    /**
     * The training split of the stage's typed examples, when its {@code data:} is in one of TRL's formats
     * (prompt-completion, conversational, pairwise, ...; see {@link org.align4j.api.data.DatasetFormat}); empty
     * when the stage trains on the run's text corpus ({@link #train()}).
     *
     * @since 1.1
     */
    default List<Example> trainExamples() {
        return List.of();
    }

    /**
     * The validation split of the stage's typed examples (held out: never trained on); empty when there are none.
     *
     * @since 1.1
     */
    default List<Example> validationExamples() {
        return List.of();
    }

    /** An event builder with run, stage and working directory filled in. */
    TrainingEvent.Builder event(TrainingEvent.Kind kind);

    /** Sends {@code event} to every {@link org.align4j.api.metrics.TrainingListener}. */
    void publish(TrainingEvent event);

    /** True once someone asked the run to stop (a command, shutdown, a plugin it needs going away). */
    boolean stopRequested();

    /** Why the stop was asked for; empty when it was not. */
    String stopReason();

    /** Adds {@code n} to a counter of the run's summary, e.g. {@code skipped_lines}. */
    void count(String counter, long n);
}
