package org.align4j.best.of.n;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks a {@code best-of-n} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "best-of-n")
public final class BestOfNStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new BestOfNSettings(stage);
    }
}
