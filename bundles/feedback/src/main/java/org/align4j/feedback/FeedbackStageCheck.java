package org.align4j.feedback;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.TrainerService;
import org.osgi.service.component.annotations.Component;

/** Checks a {@code feedback} stage's settings before the pipeline reads data or trains a tokenizer. */
@Component(service = StageCheck.class)
@TrainerService(name = "feedback")
public final class FeedbackStageCheck implements StageCheck {
    @Override
    public void validate(Settings stage) {
        new FeedbackSettings(stage);
    }
}
