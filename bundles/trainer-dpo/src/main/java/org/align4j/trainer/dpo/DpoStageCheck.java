package org.align4j.trainer.dpo;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks a {@code dpo} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "dpo")
public final class DpoStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new DpoSettings(stage);
    }
}
