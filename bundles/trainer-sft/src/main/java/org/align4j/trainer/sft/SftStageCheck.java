package org.align4j.trainer.sft;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks an {@code sft} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "sft")
public final class SftStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new SftSettings(stage);
    }
}
