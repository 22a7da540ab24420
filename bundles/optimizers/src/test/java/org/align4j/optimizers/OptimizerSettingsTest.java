package org.align4j.optimizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.align4j.api.model.Parameter;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Misspelt keys and values out of range fail before any op is added, with the file, the key path and what is
 * accepted.
 */
class OptimizerSettingsTest {
    static Graph graph;
    static Ops tf;
    static List<Parameter> params;
    static List<Operand<TFloat32>> grads;

    @BeforeAll
    static void graph() {
        graph = new Graph();
        tf = Ops.create(graph);
        Variable<TFloat32> w = tf.variable(Shape.of(2), TFloat32.class);
        params = List.of(new Parameter("model.w", w, Shape.of(2), true));
        grads = List.of(tf.constant(new float[] {1f, 2f}));
    }

    @AfterAll
    static void close() {
        graph.close();
    }

    /** The optimizer section of stage 0 of {@code pipeline.yaml}. */
    static Settings section(Map<String, Object> optimizer) {
        return Settings.of("pipeline.yaml", Map.of("stages", List.of(Map.of("optimizer", optimizer))))
                .sections("stages").get(0).section("optimizer");
    }

    static Stream<Arguments> rejected() {
        String p = "pipeline.yaml: stages[0].optimizer.";
        String common = "name, lr, schedule, warmup, min_lr, clip_norm, weight_decay";
        return Stream.of(
                Arguments.of(new AdamOptimizer(), Map.of("name", "adam", "beta3", 0.9),
                        p + "beta3: unknown setting (accepted here: " + common + ", beta1, beta2, eps)"),
                Arguments.of(new AdamWOptimizer(), Map.of("weigth_decay", 0.1),
                        p + "weigth_decay: unknown setting (accepted here: " + common + ", beta1, beta2, eps)"),
                Arguments.of(new SgdOptimizer(), Map.of("momentum", 0.9),
                        p + "momentum: unknown setting (accepted here: " + common + ")"),
                Arguments.of(new MomentumOptimizer(), Map.of("beta1", 0.9),
                        p + "beta1: unknown setting (accepted here: " + common + ", momentum, nesterov)"),
                Arguments.of(new AdamOptimizer(), Map.of("beta1", 1.0),
                        p + "beta1: expected a number in [0, 1), got 1.0"),
                Arguments.of(new AdamWOptimizer(), Map.of("beta2", -0.1),
                        p + "beta2: expected a number in [0, 1), got -0.1"),
                Arguments.of(new AdamOptimizer(), Map.of("beta1", "fast"),
                        p + "beta1: expected a number, got \"fast\""),
                Arguments.of(new AdamOptimizer(), Map.of("eps", 0), p + "eps: expected a number > 0, got 0.0"),
                Arguments.of(new AdamWOptimizer(), Map.of("weight_decay", -0.01),
                        p + "weight_decay: expected a number >= 0, got -0.01"),
                Arguments.of(new SgdOptimizer(), Map.of("clip_norm", -1),
                        p + "clip_norm: expected a number >= 0, got -1.0"),
                Arguments.of(new SgdOptimizer(), Map.of("clip_norm", "NaN"),
                        p + "clip_norm: expected a number >= 0, got NaN"),
                Arguments.of(new MomentumOptimizer(), Map.of("momentum", 1.5),
                        p + "momentum: expected a number in [0, 1), got 1.5"),
                Arguments.of(new MomentumOptimizer(), Map.of("nesterov", "maybe"),
                        p + "nesterov: expected true or false, got \"maybe\""));
    }

    @ParameterizedTest
    @MethodSource("rejected")
    void rejectsWithFileKeyAndWhatIsAccepted(Optimizer optimizer, Map<String, Object> values, String message) {
        int before = count();
        SettingsException e = assertThrows(SettingsException.class,
                () -> optimizer.build(tf, params, grads, tf.constant(0.1f), section(values)));
        assertEquals(message, e.getMessage());
        assertEquals("pipeline.yaml", e.source());
        assertEquals(before + 1, count(), "nothing but the learning-rate constant was added to the graph");
        // validate() (what a pipeline calls before anything runs) rejects the same settings the same way
        SettingsException v = assertThrows(SettingsException.class, () -> optimizer.validate(section(values)));
        assertEquals(message, v.getMessage());
    }

    @Test
    void acceptsTheCommonKeysAndStringNumbers() {
        Settings s = section(Map.of("name", "adamw", "lr", "3e-4", "schedule", "cosine", "warmup", 10, "min_lr", 0,
                "clip_norm", "1.0", "weight_decay", "0.1", "beta1", "0.85", "beta2", 0.98, "eps", "1e-6"));
        assertFalse(new AdamWOptimizer().build(tf, params, grads, tf.constant(0.1f), s).state().isEmpty());
    }

    private static int count() {
        int n = 0;
        for (var it = graph.operations(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }
}
