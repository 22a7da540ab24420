package org.align4j.api.optim;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/** Marks a DS component as a {@link LearningRateSchedule}: {@code @ScheduleService(name = "cosine")}. */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface ScheduleService {
    String PREFIX_ = "align4j.";

    String name();
}
