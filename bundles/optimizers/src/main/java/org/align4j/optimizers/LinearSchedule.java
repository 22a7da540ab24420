package org.align4j.optimizers;

import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.ScheduleService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * Linear warmup from 0 to {@code lr} over {@code warmup} steps, then a straight line from {@code lr} down to
 * {@code min_lr} (default {@code 0.1 * lr}), reached at {@code totalSteps}:
 * <pre>
 * rate = lr * step / warmup                               step &lt; warmup
 * rate = lr - (lr - min_lr) * q,  q = (step - warmup) / (totalSteps - warmup)
 * </pre>
 *
 * <pre>
 * optimizer: { name: adamw, lr: 1.0e-4, schedule: linear, warmup: 50, min_lr: 0 }
 * </pre>
 */
@Component(service = LearningRateSchedule.class)
@ScheduleService(name = "linear")
public final class LinearSchedule implements LearningRateSchedule {

    @Override
    public double rate(long step, long totalSteps, Settings settings) {
        ScheduleSettings.checkStep(step, totalSteps);
        ScheduleSettings s = ScheduleSettings.read(settings);
        if (step < s.warmup) {
            return s.lr * s.warmupFactor(step);
        }
        return s.lr - (s.lr - s.minLr) * s.decayProgress(step, totalSteps);
    }

    @Override
    public void validate(Settings settings) {
        ScheduleSettings.read(settings);
    }
}
