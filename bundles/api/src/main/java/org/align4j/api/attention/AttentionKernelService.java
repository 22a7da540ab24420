package org.align4j.api.attention;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Marks a DS component as an {@link AttentionKernel} and sets its service properties:
 * {@code @AttentionKernelService(name = "mha")}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface AttentionKernelService {
    String PREFIX_ = "align4j.";

    /** {@value AttentionKernel#NAME}: the name pipelines select this kernel by. */
    String name();

    /**
     * {@value AttentionKernel#SUPPORTS}: what the kernel supports ({@code cache}, {@code grouped}, {@code window},
     * {@code alibi}); none by default.
     *
     * @since 1.1
     */
    String[] supports() default {};
}
