package org.align4j.api.reward;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Marks a DS component as a {@link RewardModel}:
 * {@code @RewardModelService(name = "arith-verifier", version = "1", aspect = "correctness")}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface RewardModelService {
    String PREFIX_ = "align4j.";

    String name();

    String version() default "1";

    String aspect() default "overall";
}
