package org.align4j.api.train;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Checks a stage's section of a pipeline file the way its trainer will read it (unknown keys, types, ranges), so a
 * pipeline can reject a bad file before it reads any data or trains a tokenizer. A trainer bundle registers one next
 * to its {@link Trainer}, with the same name: {@code @Component(service = StageCheck.class)
 * @TrainerService(name = "pretrain")}. A trainer without one is checked only when its stage starts.
 *
 * @since 1.1
 */
@ConsumerType
public interface StageCheck {

    /** Service property: the name of the trainer whose stages it checks. */
    String NAME = "align4j.name";

    /**
     * @throws org.align4j.api.pipeline.SettingsException naming the file and the key, on anything the trainer would
     *         refuse
     */
    void validate(Settings stage);
}
