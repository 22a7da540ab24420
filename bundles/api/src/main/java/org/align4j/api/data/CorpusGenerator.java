package org.align4j.api.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Generates a text corpus (one document per string) from a seed, registered with {@code align4j.name} (e.g.
 * {@code arithmetic}). The same settings and seed give the same corpus on every machine.
 *
 * <p>{@link #records} gives the same corpus as JSONL records, following TRL's dataset formats: {@code {"text": ...}}
 * for language modelling (what the default makes of {@link #generate}), {@code {"prompt": ..., "completion": ...}}
 * for prompt-completion training, and so on, as the generator documents.
 */
@ConsumerType
public interface CorpusGenerator {

    /** Service property: the generator's name. */
    String NAME = "align4j.name";

    /** Settings: {@code count} (documents) and the generator's own keys. */
    List<String> generate(Settings settings, long seed);

    /**
     * The corpus as records, one JSON object each, its values plain JSON values ({@link String}, {@link Number},
     * {@link Boolean}, {@link List}, {@link Map}), in the field order they are to be written. The default wraps each
     * document of {@link #generate} as {@code {"text": document}}; a generator that offers other formats (chosen by
     * its settings) overrides this. Same settings and seed, same records.
     *
     * @since 1.1
     */
    default List<Map<String, Object>> records(Settings settings, long seed) {
        List<String> docs = generate(settings, seed);
        List<Map<String, Object>> out = new ArrayList<>(docs.size());
        for (String doc : docs) {
            out.add(Collections.singletonMap("text", doc));
        }
        return out;
    }

    /**
     * Checks {@code settings} (unknown keys, types, ranges) the way {@link #generate} will read them, so a pipeline can
     * reject a bad file before anything runs. The default accepts everything.
     */
    default void validate(Settings settings) {
    }
}
