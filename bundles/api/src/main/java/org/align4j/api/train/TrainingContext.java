package org.align4j.api.train;

import java.nio.file.Path;
import java.util.List;

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

    /** The run's {@code model:} section. */
    Settings model();

    /** The run's {@code data:} section (e.g. {@code field}, the record field that holds a document's text). */
    Settings data();

    /** The run's seed; a trainer derives every random stream it needs from it. */
    long seed();

    Tokenizer tokenizer();

    /** The training split of the run's data. */
    List<Record> train();

    /** The validation split of the run's data (may be empty). */
    List<Record> validation();

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
