package org.align4j.api.tokenizer;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/** Marks a DS component as a {@link TokenizerFactory} and sets its {@code align4j.name}: {@code @TokenizerService(name = "...")}. */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface TokenizerService {
    String PREFIX_ = "align4j.";

    String name();
}
