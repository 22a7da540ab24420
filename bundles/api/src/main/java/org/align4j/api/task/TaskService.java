package org.align4j.api.task;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/** Marks a DS component as a {@link Task} and sets its {@code align4j.name}: {@code @TaskService(name = "...")}. */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface TaskService {
    String PREFIX_ = "align4j.";

    String name();
}
