package org.align4j.optimizers;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.align4j.api.pipeline.Settings;

/**
 * The keys of a pipeline's {@code optimizer:} section and the checked reads of their values. Every error comes from
 * {@link Settings}, so it names the file and the full key path, e.g.
 * {@code pipeline.yaml: stages[0].optimizer.beta2: expected a number in [0, 1), got 1.0}.
 */
final class OptimizerSettings {

    /**
     * Keys every optimizer accepts. {@code name}, {@code lr}, {@code schedule}, {@code warmup} and {@code min_lr}
     * belong to the pipeline and the {@link org.align4j.api.optim.LearningRateSchedule}; an optimizer ignores them.
     */
    static final List<String> COMMON_KEYS =
            List.of("name", "lr", "schedule", "warmup", "min_lr", "clip_norm", "weight_decay");

    static final String CLIP_NORM = "clip_norm";
    static final String WEIGHT_DECAY = "weight_decay";

    private OptimizerSettings() {
    }

    /** Fails on a key that is neither common nor one of {@code own}, naming every accepted key. */
    static void checkKnown(Settings settings, String... own) {
        settings.checkKnown(Stream.concat(COMMON_KEYS.stream(), Arrays.stream(own)).toArray(String[]::new));
    }

    /** {@code clip_norm}: the global gradient norm to clip to; 0 (the default) switches clipping off. */
    static double clipNorm(Settings settings) {
        return nonNegative(settings, CLIP_NORM, 0.0);
    }

    /** {@code weight_decay} ({@code >= 0}). */
    static double weightDecay(Settings settings, double def) {
        return nonNegative(settings, WEIGHT_DECAY, def);
    }

    /** A finite number {@code >= 0}. */
    static double nonNegative(Settings settings, String key, double def) {
        double v = settings.getDouble(key, def);
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw settings.error(key, "expected a number >= 0, got " + v);
        }
        return v;
    }

    /** A finite number {@code > 0}. */
    static double positive(Settings settings, String key, double def) {
        double v = settings.getDouble(key, def);
        if (!(v > 0) || Double.isInfinite(v)) {
            throw settings.error(key, "expected a number > 0, got " + v);
        }
        return v;
    }

    /** A number in {@code [0, 1)}: a decay rate such as {@code beta1} or {@code momentum}. */
    static double decayRate(Settings settings, String key, double def) {
        double v = settings.getDouble(key, def);
        if (!(v >= 0 && v < 1)) {
            throw settings.error(key, "expected a number in [0, 1), got " + v);
        }
        return v;
    }
}
