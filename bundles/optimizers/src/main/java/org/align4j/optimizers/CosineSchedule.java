package org.align4j.optimizers;

import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.ScheduleService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * Linear warmup from 0 to {@code lr} over {@code warmup} steps, then a half cosine from {@code lr} down to
 * {@code min_lr} (default {@code 0.1 * lr}), reached at {@code totalSteps} (Loshchilov &amp; Hutter 2017, SGDR,
 * without restarts):
 * <pre>
 * rate = lr * step / warmup                                         step &lt; warmup
 * rate = min_lr + (lr - min_lr) * (1 + cos(pi * q)) / 2,  q = (step - warmup) / (totalSteps - warmup)
 * </pre>
 *
 * <pre>
 * optimizer: { name: adamw, lr: 3.0e-4, schedule: cosine, warmup: 100, min_lr: 3.0e-5 }
 * </pre>
 */
@Component(service = LearningRateSchedule.class)
@ScheduleService(name = "cosine")
public final class CosineSchedule implements LearningRateSchedule {

    @Override
    public double rate(long step, long totalSteps, Settings settings) {
        ScheduleSettings.checkStep(step, totalSteps);
        ScheduleSettings s = ScheduleSettings.read(settings);
        if (step < s.warmup) {
            return s.lr * s.warmupFactor(step);
        }
        double q = s.decayProgress(step, totalSteps);
        return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * q));
    }

    @Override
    public void validate(Settings settings) {
        ScheduleSettings.read(settings);
    }
}
