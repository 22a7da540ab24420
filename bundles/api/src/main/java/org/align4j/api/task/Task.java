package org.align4j.api.task;

import java.util.List;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A verifiable task, registered with {@link TaskService} (e.g. {@code @TaskService(name = "arithmetic")}): it
 * generates problems with worked answers and verifies completions of its prompts.
 *
 * <p>A completion is lines separated by {@code '\n'}: one line per reasoning step, then one final-answer line in the
 * task's own format (documented by the task). A trainer that wants a special step token may replace the separator.
 * {@link Verdict#stepLabels()} has one label per line before the final-answer line, in order.
 */
@ConsumerType
public interface Task {

    /** Service property: the task's name. */
    String NAME = "align4j.name";

    /** The separator of the steps and the final-answer line of a completion. */
    String STEP_SEPARATOR = "\n";

    /**
     * Generates problems with their worked answers. The same settings and seed give the same list on every machine.
     *
     * @param settings {@code count} (how many) and the task's own keys
     * @throws org.align4j.api.pipeline.SettingsException on settings {@link #validate} rejects
     */
    List<TaskExample> generate(Settings settings, long seed);

    /**
     * Checks every step and the final answer of {@code completion} against the problem in {@code prompt} (a prompt
     * this task generates). Never throws on any string, however malformed: what is wrong is in
     * {@link Verdict#reason()}.
     */
    Verdict verify(String prompt, String completion);

    /**
     * Checks {@code settings} (unknown keys, types, ranges) the way {@link #generate} reads them, so a pipeline can
     * reject a bad file before anything runs; errors come from {@link Settings#error} and name the key. The default
     * accepts everything.
     */
    default void validate(Settings settings) {
    }
}
