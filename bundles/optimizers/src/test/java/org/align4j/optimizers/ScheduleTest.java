package org.align4j.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/** The schedules against their closed forms, at step 0, in warmup, at its end, in the decay and at the last step. */
class ScheduleTest {
    static final double EPS = 1e-12;

    static Settings section(Map<String, Object> optimizer) {
        return Settings.of("pipeline.yaml", Map.of("stages", List.of(Map.of("optimizer", optimizer))))
                .sections("stages").get(0).section("optimizer");
    }

    static void close(double expected, double actual, String what) {
        assertEquals(expected, actual, EPS * Math.abs(expected) + 1e-18, what);
    }

    @Test
    void cosineWarmsUpLinearlyThenFollowsHalfACosineToMinLr() {
        double lr = 3e-4;
        double min = 3e-5;
        long warmup = 10;
        long total = 110;
        Settings s = section(Map.of("lr", lr, "warmup", warmup, "min_lr", min, "schedule", "cosine"));
        LearningRateSchedule c = new CosineSchedule();
        c.validate(s);
        for (long step : new long[] {0, 1, 5, 9, 10, 11, 35, 60, 85, 108, 109, 110}) {
            double expected = step < warmup ? lr * step / warmup
                    : min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * (step - warmup) / (double) (total - warmup)));
            close(expected, c.rate(step, total, s), "step " + step);
        }
        close(0, c.rate(0, total, s), "step 0");
        close(lr / 2, c.rate(5, total, s), "half way through warmup");
        close(lr, c.rate(warmup, total, s), "end of warmup");
        close((lr + min) / 2, c.rate(60, total, s), "half way through the decay");
        close(min, c.rate(total, total, s), "at totalSteps");
        close(min, c.rate(total + 50, total, s), "after totalSteps");
    }

    @Test
    void cosineWithoutWarmupStartsAtLrAndDefaultsMinLrToATenth() {
        Settings s = section(Map.of("lr", 0.1));
        LearningRateSchedule c = new CosineSchedule();
        close(0.1, c.rate(0, 100, s), "step 0");
        close(0.01 + 0.09 * 0.5 * (1 + Math.cos(Math.PI * 99 / 100.0)), c.rate(99, 100, s), "last step");
        close(0.01, c.rate(100, 100, s), "min_lr = 0.1 * lr");
    }

    @Test
    void linearWarmsUpThenFallsInAStraightLineToMinLr() {
        double lr = 1e-3;
        double min = 0;
        Settings s = section(Map.of("lr", lr, "warmup", 4, "min_lr", min));
        LearningRateSchedule l = new LinearSchedule();
        l.validate(s);
        long total = 20;
        for (long step : new long[] {0, 1, 3, 4, 5, 12, 19, 20}) {
            double expected = step < 4 ? lr * step / 4.0 : lr + (min - lr) * (step - 4) / 16.0;
            close(expected, l.rate(step, total, s), "step " + step);
        }
        close(0, l.rate(0, total, s), "step 0");
        close(lr, l.rate(4, total, s), "end of warmup");
        close(lr / 2, l.rate(12, total, s), "half way through the decay");
        close(lr / 16, l.rate(19, total, s), "last step");
        close(0, l.rate(20, total, s), "at totalSteps");
    }

    @Test
    void constantWarmsUpThenStaysAtLr() {
        Settings s = section(Map.of("lr", 0.5, "warmup", 8, "min_lr", 0.01));
        LearningRateSchedule k = new ConstantSchedule();
        k.validate(s);
        for (long step : new long[] {0, 1, 7, 8, 9, 50, 99}) {
            close(step < 8 ? 0.5 * step / 8 : 0.5, k.rate(step, 100, s), "step " + step);
        }
        close(0.5, k.rate(0, 100, section(Map.of("lr", 0.5))), "no warmup: lr from step 0");
    }

    @Test
    void warmupLongerThanTheStageNeverDecays() {
        Settings s = section(Map.of("lr", 1.0, "warmup", 50));
        close(0.2, new CosineSchedule().rate(10, 20, s), "cosine in warmup");
        close(0.38, new LinearSchedule().rate(19, 20, s), "linear in warmup");
        close(0.1, new LinearSchedule().rate(50, 20, s), "past the end: min_lr");
    }

    @Test
    void invalidSettingsNameFileAndKey() {
        String p = "pipeline.yaml: stages[0].optimizer.";
        assertMessage(p + "lr: missing (required)", Map.of("warmup", 10));
        assertMessage(p + "lr: expected a number > 0, got 0.0", Map.of("lr", 0));
        assertMessage(p + "lr: expected a number > 0, got -0.1", Map.of("lr", -0.1));
        assertMessage(p + "warmup: expected a whole number of steps >= 0, got -1", Map.of("lr", 0.1, "warmup", -1));
        assertMessage(p + "warmup: expected a whole number, got 2.5", Map.of("lr", 0.1, "warmup", 2.5));
        assertMessage(p + "min_lr: expected a number in [0.0, 0.1], got 0.2", Map.of("lr", 0.1, "min_lr", 0.2));
        assertMessage(p + "min_lr: expected a number in [0.0, 0.1], got -0.01", Map.of("lr", 0.1, "min_lr", -0.01));
    }

    private static void assertMessage(String message, Map<String, Object> values) {
        for (LearningRateSchedule s : List.of(new ConstantSchedule(), new CosineSchedule(), new LinearSchedule())) {
            assertEquals(message, assertThrows(SettingsException.class, () -> s.validate(section(values)))
                    .getMessage(), s.getClass().getSimpleName() + ".validate");
            assertEquals(message, assertThrows(SettingsException.class, () -> s.rate(0, 10, section(values)))
                    .getMessage(), s.getClass().getSimpleName() + ".rate");
        }
    }

    @Test
    void rejectsNegativeStepsAndEmptyStages() {
        Settings s = section(Map.of("lr", 0.1));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule().rate(-1, 10, s));
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule().rate(0, 0, s));
    }
}
