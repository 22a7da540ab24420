package org.align4j.pipeline.internal;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.align4j.api.train.Trainer;

/**
 * Finds trainer components and configures one instance per stage. In OSGi: the Service Component Runtime's DTOs and
 * ConfigAdmin factory configurations; in tests, plain objects.
 */
public interface Trainers {

    /** Every trainer component that is declared (configured or not), sorted by name. */
    List<TrainerInfo> registered();

    /** The trainer named {@code name}, waiting up to {@code wait} for its bundle to be processed. */
    Optional<TrainerInfo> await(String name, Duration wait);

    /**
     * Creates the stage's configuration and returns the trainer once Declarative Services registered it.
     *
     * @param configName the factory configuration's name, {@code <run>-<index>}
     * @param properties the configuration ({@code align4j.run}, {@code <ref>.target}, {@code stage.*})
     * @param onGone called if the configured trainer service goes away while the stage holds it, with why when that
     *        is known (the framework is shutting down) or {@code null}
     * @throws IllegalStateException when the trainer did not appear within {@code wait}, saying why
     */
    Stage start(TrainerInfo trainer, String configName, Map<String, Object> properties, Duration wait,
            Consumer<String> onGone) throws Exception;

    /** A configured trainer; closing deletes its configuration. */
    interface Stage extends AutoCloseable {
        Trainer trainer();

        /**
         * Why the trainer may have stopped its stage by itself, as far as the framework knows ("align4j is shutting
         * down"), or {@code null}.
         */
        default String stopCause() {
            return null;
        }

        @Override
        void close();
    }
}
