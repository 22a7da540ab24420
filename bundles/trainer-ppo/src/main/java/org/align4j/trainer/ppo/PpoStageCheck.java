package org.align4j.trainer.ppo;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks a {@code ppo} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "ppo")
public final class PpoStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new PpoSettings(stage);
    }
}
