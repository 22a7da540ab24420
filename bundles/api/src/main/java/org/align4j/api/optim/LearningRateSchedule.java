package org.align4j.api.optim;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A learning-rate schedule, registered with {@link ScheduleService}: the rate at a step, computed on the Java side
 * and fed to the graph. Settings: {@code lr} (the peak rate), {@code warmup} (steps), {@code min_lr}, and whatever
 * the schedule itself needs; {@code totalSteps} is the length of the stage.
 */
@ConsumerType
public interface LearningRateSchedule {

    /** Service property: the name pipelines select the schedule by. */
    String NAME = "align4j.name";

    /** The rate for {@code step} (0-based) of {@code totalSteps}. */
    double rate(long step, long totalSteps, Settings settings);

    /** Fails with a clear message when {@code settings} are invalid for this schedule; called once before a run. */
    default void validate(Settings settings) {
    }
}
