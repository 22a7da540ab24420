package org.align4j.optimizers;

import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.ScheduleService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * {@code lr} after a linear warmup: {@code lr * step / warmup} for {@code step < warmup}, then {@code lr}.
 * {@code min_lr} is not used.
 *
 * <pre>
 * optimizer: { name: sgd, lr: 0.1, schedule: constant, warmup: 10 }
 * </pre>
 */
@Component(service = LearningRateSchedule.class)
@ScheduleService(name = "constant")
public final class ConstantSchedule implements LearningRateSchedule {

    @Override
    public double rate(long step, long totalSteps, Settings settings) {
        ScheduleSettings.checkStep(step, totalSteps);
        ScheduleSettings s = ScheduleSettings.read(settings);
        return s.lr * s.warmupFactor(step);
    }

    @Override
    public void validate(Settings settings) {
        ScheduleSettings.read(settings);
    }
}
