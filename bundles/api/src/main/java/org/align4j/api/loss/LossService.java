package org.align4j.api.loss;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Marks a DS component as a loss and sets its service properties:
 * {@code @LossService(name = "plackett-luce", family = LossFamily.LISTWISE)}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface LossService {
    String PREFIX_ = "align4j.";

    /** {@code align4j.name}: the name pipelines select the loss by. */
    String name();

    /** {@value LossFamily#PROPERTY}: one of the {@link LossFamily} constants. */
    String family();
}
