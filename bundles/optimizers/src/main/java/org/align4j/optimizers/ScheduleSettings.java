package org.align4j.optimizers;

import org.align4j.api.pipeline.Settings;

/**
 * What every schedule reads from the {@code optimizer:} section: {@code lr} (required, the peak rate, {@code > 0}),
 * {@code warmup} (steps of linear warmup from 0, default 0) and {@code min_lr} (the rate a decay ends at, in
 * {@code [0, lr]}, default {@code 0.1 * lr}). Errors name the file and key.
 */
final class ScheduleSettings {
    final double lr;
    final long warmup;
    final double minLr;

    private ScheduleSettings(double lr, long warmup, double minLr) {
        this.lr = lr;
        this.warmup = warmup;
        this.minLr = minLr;
    }

    static ScheduleSettings read(Settings settings) {
        double lr = settings.getDouble("lr");
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw settings.error("lr", "expected a number > 0, got " + lr);
        }
        long warmup = settings.getLong("warmup", 0);
        if (warmup < 0) {
            throw settings.error("warmup", "expected a whole number of steps >= 0, got " + warmup);
        }
        double minLr = settings.getDouble("min_lr", 0.1 * lr, 0.0, lr);
        return new ScheduleSettings(lr, warmup, minLr);
    }

    /**
     * The linear warmup factor {@code step / warmup} while {@code step < warmup} (0 at step 0), then 1.
     */
    double warmupFactor(long step) {
        return step < warmup ? (double) step / warmup : 1.0;
    }

    /**
     * How far the decay after warmup has come: 0 at {@code step == warmup}, 1 at {@code step == totalSteps} and
     * after it. When the warmup fills the whole stage there is no decay window: 1 (the stage is over).
     */
    double decayProgress(long step, long totalSteps) {
        if (totalSteps <= warmup) {
            return 1.0;
        }
        return Math.min(1.0, Math.max(0.0, (double) (step - warmup) / (totalSteps - warmup)));
    }

    static void checkStep(long step, long totalSteps) {
        if (step < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("learning-rate schedule: step " + step + " of " + totalSteps
                    + " steps: the step must be >= 0 and the stage at least 1 step long");
        }
    }
}
