package org.align4j.itests.probe.trainer;

import java.util.List;
import java.util.Map;

import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.itests.probe.judge.Judge;

/**
 * A third party's trainer with a reference of a kind of its own ({@code judge}, a {@link Judge}), declared in its
 * DS descriptor (written by {@code ThirdPartyTrainerIT}) as mandatory and dynamic. The pipeline wires it from the
 * stage key of the same name. Its "training" asks the judge bound to it about the stage's {@code text}.
 */
public class JudgedTrainer implements Trainer {
    /** Set by Declarative Services (field reference, replace). */
    private volatile Judge judge;

    @Override
    public TrainingResult train(TrainingContext context) {
        String verdict = judge.judge(context.settings().getString("text", "nothing"));
        return new TrainingResult(TrainingResult.Status.COMPLETED, 1, Map.of("judged", 1.0), List.of(verdict),
                null);
    }
}
