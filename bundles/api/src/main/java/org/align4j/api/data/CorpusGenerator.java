package org.align4j.api.data;

import java.util.List;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Generates a text corpus (one document per string) from a seed, registered with {@code align4j.name} (e.g.
 * {@code arithmetic}). The same settings and seed give the same corpus on every machine.
 */
@ConsumerType
public interface CorpusGenerator {

    /** Service property: the generator's name. */
    String NAME = "align4j.name";

    /** Settings: {@code count} (documents) and the generator's own keys. */
    List<String> generate(Settings settings, long seed);

    /**
     * Checks {@code settings} (unknown keys, types, ranges) the way {@link #generate} will read them, so a pipeline can
     * reject a bad file before anything runs. The default accepts everything.
     */
    default void validate(Settings settings) {
    }
}
