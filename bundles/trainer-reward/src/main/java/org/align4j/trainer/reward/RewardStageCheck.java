package org.align4j.trainer.reward;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks a {@code reward} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "reward")
public final class RewardStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new RewardSettings(stage);
    }
}
