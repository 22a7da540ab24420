package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.TrainingResult;
import org.align4j.model.CheckpointStoreImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.AdamWOptimizer;
import org.align4j.optimizers.CosineSchedule;
import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The shared loop on a tiny real model (1 layer, d_model 16, vocabulary 20, context 8) with the real runtime, model,
 * kernel, loss, AdamW, cosine schedule, checkpoint store and weight store: frozen and trained models, optimizer groups,
 * stop and exact resume, the method's state, completed stages, initialisation from a model folder, non-finite losses.
 */
class TrainingLoopTest {
    /** One thread each way, so a run's floats do not depend on scheduling. */
    static final TensorFlowRuntimeImpl RUNTIME = new TensorFlowRuntimeImpl("cpu", 1, 1, false, 7);
    static final CheckpointStoreImpl CHECKPOINTS = new CheckpointStoreImpl();
    static final SafetensorsWeightStore WEIGHTS = new SafetensorsWeightStore();

    @TempDir
    Path tmp;

    static Map<String, Object> stage(int steps) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("trainer", "tiny");
        s.put("steps", steps);
        s.put("batch", TinyMethod.BATCH);
        s.put("optimizer", Map.of("name", "adamw", "lr", 0.02, "warmup", 1, "schedule", "cosine"));
        return s;
    }

    static TrainingResult run(TestContext ctx, TinyMethod method) throws Exception {
        return new TrainingLoop(RUNTIME, new TransformerFactoryImpl(), CHECKPOINTS, WEIGHTS, new TrainerGuard())
                .run(ctx, new LoopSettings(ctx.settings()), method, new AdamWOptimizer(), new CosineSchedule());
    }

    /** The seeded initial weights of a model named {@code name}, built in a graph of its own. */
    static Map<String, TensorData> seeded(String name, long seed) {
        try (Graph g = new Graph()) {
            Transformer t = new TransformerFactoryImpl().create(Ops.create(g), name + ".", TinyMethod.CONFIG,
                    TinyMethod.KERNEL);
            try (Session s = new Session(g)) {
                t.initialize(s, seed);
                return t.read(s);
            }
        }
    }

    static void assertSameWeights(Map<String, TensorData> expected, Map<String, TensorData> actual, String what) {
        assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(actual.keySet()), what + ": parameter names");
        expected.forEach((k, v) -> {
            assertArrayEquals(v.shape(), actual.get(k).shape(), what + ": " + k);
            assertArrayEquals(v.values(), actual.get(k).values(), what + ": " + k);
        });
    }

    static boolean sameValues(Map<String, TensorData> a, Map<String, TensorData> b) {
        for (Map.Entry<String, TensorData> e : a.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue().values(), b.get(e.getKey()).values())) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aFrozenReferenceKeepsItsWeightsAndStaysOutOfTheCheckpoint() throws Exception {
        // policy loss: its own next-token loss plus a pull towards the reference's logits, so a gradient would reach
        // the reference if the loop let it
        TinyMethod m = new TinyMethod(List.of(ModelSpec.trained("policy", TinyMethod.CONFIG, TinyMethod.KERNEL),
                ModelSpec.frozen("reference", TinyMethod.CONFIG, TinyMethod.KERNEL)), (self, tf, models) -> {
                    Transformer policy = models.get("policy");
                    Transformer reference = models.get("reference");
                    Operand<TFloat32> p = policy.lmLogits(tf, policy.hidden(tf, self.tokens, null)); // [B, T, V]
                    Operand<TFloat32> r = reference.lmLogits(tf, reference.hidden(tf, self.tokens, null)); // [B, T, V]
                    Operand<TFloat32> pull = tf.math.mean(tf.math.squaredDifference(p, r),
                            tf.constant(new int[] {0, 1, 2})); // []
                    return Objective.minimize(self.scaled(tf, tf.math.add(self.lmLoss(tf, policy), pull)));
                }, 3);
        TestContext ctx = new TestContext(tmp, 3, stage(4));
        TrainingResult result = run(ctx, m);

        assertEquals(TrainingResult.Status.COMPLETED, result.status());
        assertSameWeights(seeded("reference", 3), m.atStart.get("reference"), "reference before the first step");
        assertSameWeights(seeded("reference", 3), m.atFinish.get("reference"), "reference after the last step");
        assertSameWeights(seeded("policy", 3), m.atStart.get("policy"), "policy before the first step");
        assertFalse(sameValues(m.atStart.get("policy"), m.atFinish.get("policy")), "the policy was trained");

        Checkpoint c = CHECKPOINTS.latest(tmp).orElseThrow();
        assertEquals(4, c.step());
        Set<String> keys = c.tensors().keySet();
        for (String k : keys) {
            assertFalse(k.startsWith("reference.") || k.contains("/reference.") || k.contains(".reference."),
                    "a frozen model's tensor in the checkpoint: " + k);
        }
        assertTrue(keys.containsAll(m.atFinish.get("policy").keySet()), "every policy parameter is checkpointed");
        assertSameWeights(m.atFinish.get("policy"), filter(c.tensors(), "policy."), "checkpointed policy");
        // only the trained model is written as a model folder
        assertEquals(tmp.resolve("model"), result.output());
        assertFalse(Files.exists(tmp.resolve("reference")));
    }

    static Map<String, TensorData> filter(Map<String, TensorData> all, String prefix) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k, v);
            }
        });
        return out;
    }

    @Test
    void twoOptimizerGroupsKeepTheirStateUnderTheirOwnNames() throws Exception {
        TinyMethod m = new TinyMethod(List.of(ModelSpec.trained("policy", TinyMethod.CONFIG, TinyMethod.KERNEL),
                ModelSpec.trained("value", TinyMethod.CONFIG, TinyMethod.KERNEL)), (self, tf, models) -> {
                    Operand<TFloat32> lm = self.lmLoss(tf, models.get("policy")); // []
                    Transformer value = models.get("value");
                    Operand<TFloat32> v = value.scalar(tf, value.hidden(tf, self.tokens, null)); // [B, T]
                    Operand<TFloat32> mse = tf.math.mean(tf.math.square(tf.math.sub(v, tf.constant(1f))),
                            tf.constant(new int[] {0, 1})); // []
                    return Objective.minimize(self.scaled(tf, lm)).group("policy", lm, "policy")
                            .group("value", mse, "value");
                }, 4);
        int steps = 3;
        TestContext ctx = new TestContext(tmp, 4, stage(steps));
        assertEquals(TrainingResult.Status.COMPLETED, run(ctx, m).status());

        Map<String, TensorData> t = CHECKPOINTS.latest(tmp).orElseThrow().tensors();
        List<String> policyState = new ArrayList<>();
        List<String> valueState = new ArrayList<>();
        for (String k : t.keySet()) {
            if (k.startsWith("policy/")) {
                policyState.add(k.substring("policy/".length()));
            } else if (k.startsWith("value/")) {
                valueState.add(k.substring("value/".length()));
            } else {
                assertTrue(k.startsWith("policy.") || k.startsWith("value."), "neither a parameter nor a group's"
                        + " state: " + k);
            }
        }
        // both groups hold an AdamW of their own: the same local names, which only the group prefix tells apart
        assertTrue(policyState.contains("optimizer.adamw.step"), policyState.toString());
        assertTrue(valueState.contains("optimizer.adamw.step"), valueState.toString());
        assertEquals(steps, t.get("policy/optimizer.adamw.step").values()[0], "policy group's updates");
        assertEquals(steps, t.get("value/optimizer.adamw.step").values()[0], "value group's updates");
        // each group's moments belong to its own model's parameters only
        for (String k : policyState) {
            if (k.startsWith("optimizer.adamw.m.") || k.startsWith("optimizer.adamw.v.")) {
                assertTrue(k.substring("optimizer.adamw.m.".length()).startsWith("policy."), k);
            }
        }
        for (String k : valueState) {
            if (k.startsWith("optimizer.adamw.m.") || k.startsWith("optimizer.adamw.v.")) {
                assertTrue(k.substring("optimizer.adamw.m.".length()).startsWith("value."), k);
            }
        }
        assertTrue(policyState.stream().anyMatch(k -> k.startsWith("optimizer.adamw.m.policy.")));
        assertTrue(valueState.stream().anyMatch(k -> k.startsWith("optimizer.adamw.m.value.")));
        // the value group trained the value model's scalar head (reached only by its loss); the policy group did not
        assertTrue(valueState.contains("optimizer.adamw.m.value.score_head.weight"), valueState.toString());
        assertFalse(policyState.contains("optimizer.adamw.m.policy.score_head.weight"), policyState.toString());
        assertArrayEquals(m.atStart.get("policy").get("policy.score_head.weight").values(),
                m.atFinish.get("policy").get("policy.score_head.weight").values(), "the policy's unused scalar head");
        // both models moved
        assertFalse(sameValues(m.atStart.get("policy"), m.atFinish.get("policy")));
        assertFalse(sameValues(m.atStart.get("value"), m.atFinish.get("value")));
        TrainingEvent last = ctx.of(TrainingEvent.Kind.STEP).get(steps - 1);
        assertTrue(last.metrics().containsKey(MetricNames.GRAD_NORM), last.metrics().toString());
        assertTrue(last.metrics().containsKey(MetricNames.GRAD_NORM + "/value"), last.metrics().toString());
    }

    @Test
    void aStoppedRunResumesToTheSameLossesAsAnUninterruptedOne() throws Exception {
        int steps = 6;
        int k = 3;
        Path straight = Files.createDirectory(tmp.resolve("straight"));
        TestContext a = new TestContext(straight, 9, stage(steps));
        TinyMethod ma = TinyMethod.policy(9);
        assertEquals(TrainingResult.Status.COMPLETED, run(a, ma).status());
        Map<Long, Double> uninterrupted = a.steps();
        assertEquals(steps, uninterrupted.size());

        Path stopped = Files.createDirectory(tmp.resolve("stopped"));
        TestContext b = new TestContext(stopped, 9, stage(steps));
        b.stopAfter = k;
        TinyMethod mb = TinyMethod.policy(9);
        TrainingResult first = run(b, mb);
        assertEquals(TrainingResult.Status.STOPPED, first.status());
        assertEquals(k, first.step());
        assertEquals(List.of((long) k), CHECKPOINTS.steps(stopped), "one checkpoint, at the step it stopped");
        assertEquals(stopped.resolve("checkpoint-" + k), first.output());
        assertTrue(b.of(TrainingEvent.Kind.MESSAGE).stream().anyMatch(e -> e.message().contains("stopped at step "
                + k) && e.message().contains("the test asked to stop")), b.events.toString());
        assertNull(mb.restored, "a fresh run restores nothing");

        // a run with another seed refuses the checkpoint, naming it
        IllegalStateException seed = assertThrows(IllegalStateException.class,
                () -> run(new TestContext(stopped, 10, stage(steps)), TinyMethod.policy(10)));
        assertTrue(seed.getMessage().contains("checkpoint-" + k) && seed.getMessage().contains("seed 9")
                && seed.getMessage().contains("seed 10"), seed.getMessage());
        assertNull(mb.atFinish, "a stopped run does not finish");

        // a stage of fewer steps than the checkpoint reached refuses it rather than finishing past its end
        IllegalStateException shorter = assertThrows(IllegalStateException.class,
                () -> run(new TestContext(stopped, 9, stage(k - 1)), TinyMethod.policy(9)));
        assertTrue(shorter.getMessage().contains("checkpoint-" + k) && shorter.getMessage().contains("beyond this"
                + " stage's " + (k - 1) + " steps"), shorter.getMessage());

        // the method's state went into the checkpoint
        Map<String, String> saved = CHECKPOINTS.latest(stopped).orElseThrow().state();
        assertEquals(Integer.toString(mb.served), saved.get("method.served"));
        assertEquals("served " + mb.served + " batches", saved.get("method.note"));

        TestContext c = new TestContext(stopped, 9, stage(steps));
        TinyMethod mc = TinyMethod.policy(9);
        TrainingResult second = run(c, mc);
        assertEquals(TrainingResult.Status.COMPLETED, second.status());
        assertEquals(steps, second.step());
        assertEquals(Map.of("served", Integer.toString(k), "note", "served " + k + " batches"), mc.restored,
                "restore() gets back what state() saved");
        assertEquals(k, c.of(TrainingEvent.Kind.STAGE_STARTED).get(0).step());

        Map<Long, Double> resumed = new LinkedHashMap<>(b.steps());
        resumed.putAll(c.steps());
        assertEquals(List.of(4L, 5L, 6L), new ArrayList<>(c.steps().keySet()), "the resumed run starts at step k+1");
        assertEquals(uninterrupted, resumed, "per-step losses, stopped at " + k + " and resumed");
        assertTrue(new TreeSet<>(uninterrupted.values()).size() > 1, "the loss changes while training");
        assertSameWeights(ma.atFinish.get("policy"), mc.atFinish.get("policy"), "final weights");
    }

    @Test
    void aCompletedStageRunsNoStepWhenRunAgain() throws Exception {
        TestContext first = new TestContext(tmp, 5, stage(2));
        TrainingResult done = run(first, TinyMethod.policy(5));
        assertEquals(TrainingResult.Status.COMPLETED, done.status());
        assertTrue(done.metrics().containsKey(MetricNames.EVAL_LOSS), done.metrics().toString());

        TestContext again = new TestContext(tmp, 5, stage(2));
        TinyMethod m = TinyMethod.policy(5);
        TrainingResult rerun = run(again, m);
        assertEquals(TrainingResult.Status.COMPLETED, rerun.status());
        assertEquals(2, rerun.step());
        assertEquals(0, m.builds, "no graph is built");
        assertEquals(0, m.batchCalls, "no batch is read");
        assertTrue(again.of(TrainingEvent.Kind.STEP).isEmpty(), again.events.toString());
        assertTrue(again.of(TrainingEvent.Kind.MESSAGE).stream()
                .anyMatch(e -> e.message().contains("already completed")), again.events.toString());
        assertEquals(done.metrics(), rerun.metrics(), "the final evaluation comes back from the checkpoint");
        assertEquals(done.output(), rerun.output());

        // without its model folder the stage is not complete: the folder is written again from the final checkpoint,
        // still without a training step
        Map<String, TensorData> written = WEIGHTS.load(tmp.resolve("model/model.safetensors")).tensors();
        Files.delete(tmp.resolve("model/model.safetensors"));
        TestContext third = new TestContext(tmp, 5, stage(2));
        TinyMethod m3 = TinyMethod.policy(5);
        assertEquals(TrainingResult.Status.COMPLETED, run(third, m3).status());
        assertTrue(third.of(TrainingEvent.Kind.STEP).isEmpty(), third.events.toString());
        assertEquals(0, m3.batchCalls, "no batch is read");
        assertEquals(Map.of("served", "2", "note", "served 2 batches"), m3.restored);
        assertSameWeights(written, WEIGHTS.load(tmp.resolve("model/model.safetensors")).tensors(), "rewritten");
    }

    @Test
    void aStoppedRunGoesOnOnlyUnderItsOwnRecipe() throws Exception {
        TestContext b = new TestContext(tmp, 9, stage(6));
        b.stopAfter = 3;
        assertEquals(TrainingResult.Status.STOPPED, run(b, TinyMethod.policy(9)).status());

        // a new learning rate would train one model with two recipes: refused, naming the checkpoint and the folder
        Map<String, Object> changed = stage(6);
        changed.put("optimizer", Map.of("name", "adamw", "lr", 0.01, "warmup", 1, "schedule", "cosine"));
        TinyMethod refused = TinyMethod.policy(9);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> run(new TestContext(tmp, 9, changed), refused));
        assertTrue(e.getMessage().contains("checkpoint-3") && e.getMessage().contains("other settings")
                && e.getMessage().contains("delete " + tmp), e.getMessage());
        assertEquals(0, refused.batchCalls, "nothing is trained");
        assertEquals(List.of(3L), CHECKPOINTS.steps(tmp), "the checkpoint is left as it was");

        // more steps (and other reporting) go on from it
        Map<String, Object> longer = stage(8);
        longer.put("log_every", 2);
        TestContext c = new TestContext(tmp, 9, longer);
        TinyMethod m = TinyMethod.policy(9);
        TrainingResult r = run(c, m);
        assertEquals(TrainingResult.Status.COMPLETED, r.status());
        assertEquals(8, r.step());
        assertEquals(3, c.of(TrainingEvent.Kind.STAGE_STARTED).get(0).step(), "resumed at the checkpoint");
    }

    @Test
    void aCompletedStageWhoseSettingsChangedIsRefusedNotTakenForDone() throws Exception {
        assertEquals(TrainingResult.Status.COMPLETED, run(new TestContext(tmp, 5, stage(2)), TinyMethod.policy(5))
                .status());

        // what is only reported may change: the stage is still done
        Map<String, Object> reported = stage(2);
        reported.put("log_every", 7);
        reported.put("eval", Map.of("every", 1, "batches", 1));
        TestContext same = new TestContext(tmp, 5, reported);
        TinyMethod m = TinyMethod.policy(5);
        assertEquals(TrainingResult.Status.COMPLETED, run(same, m).status());
        assertEquals(0, m.batchCalls, "no batch is read");

        // what is trained may not: a new learning rate is refused, naming the folder to delete
        Map<String, Object> changed = stage(2);
        changed.put("optimizer", Map.of("name", "adamw", "lr", 0.01, "warmup", 1, "schedule", "cosine"));
        TinyMethod m2 = TinyMethod.policy(5);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> run(new TestContext(tmp, 5, changed), m2));
        assertTrue(e.getMessage().contains("settings changed since it completed at step 2")
                && e.getMessage().contains("delete " + tmp), e.getMessage());
        assertEquals(0, m2.batchCalls, "nothing is trained over the completed model");
        assertEquals(TrainingLoop.settingsFingerprint(Settings.of("a.yaml", stage(2))),
                TrainingLoop.settingsFingerprint(Settings.of("b.yaml", reported)), "reporting keys are left out");
    }

    @Test
    void aModelFolderWrittenByTheLoopStartsTheNextStagesModels() throws Exception {
        Path one = Files.createDirectory(tmp.resolve("one"));
        TinyMethod first = TinyMethod.policy(11);
        TrainingResult r = run(new TestContext(one, 11, stage(3)), first);
        Path folder = r.output();
        assertEquals(one.resolve("model"), folder);
        Map<String, TensorData> file = WEIGHTS.load(folder.resolve("model.safetensors")).tensors();
        for (String k : file.keySet()) {
            assertTrue(k.startsWith("model."), "a model folder names its tensors model.<local>: " + k);
        }
        assertEquals(TinyMethod.CONFIG, WEIGHTS.loadConfig(folder.resolve("config.json")));
        assertTrue(Files.isRegularFile(folder.resolve("tokenizer.json")));
        // the folder holds the trained weights, not the seeded ones
        assertSameWeights(rename(file, "policy."), first.atFinish.get("policy"), "folder vs trained policy");
        assertFalse(sameValues(first.atStart.get("policy"), first.atFinish.get("policy")));

        // a second stage with another seed: a trained policy and a frozen reference, both from the folder
        Path two = Files.createDirectory(tmp.resolve("two"));
        TinyMethod second = new TinyMethod(List.of(
                ModelSpec.trained("policy", TinyMethod.CONFIG, TinyMethod.KERNEL).initFrom(folder),
                ModelSpec.frozen("reference", TinyMethod.CONFIG, TinyMethod.KERNEL).initFrom(folder)),
                TinyMethod.LM, 12);
        TestContext ctx = new TestContext(two, 12, stage(1));
        run(ctx, second);
        assertSameWeights(rename(file, "policy."), second.atStart.get("policy"), "policy at step 0");
        assertSameWeights(rename(file, "reference."), second.atStart.get("reference"), "reference at step 0");
        assertTrue(ctx.of(TrainingEvent.Kind.MESSAGE).stream()
                .anyMatch(e -> e.message().contains("weights from " + folder)), ctx.events.toString());
    }

    @Test
    void logsEvaluatesAndCheckpointsAtTheirCadenceKeepingTheNewest() throws Exception {
        Map<String, Object> s = stage(5);
        s.put("eval", Map.of("every", 2, "at_start", true));
        s.put("checkpoint", Map.of("every", 2, "keep", 2));
        s.put("log_every", 2);
        TestContext ctx = new TestContext(tmp, 8, s);
        TinyMethod m = TinyMethod.policy(8);
        TrainingResult r = run(ctx, m);
        assertEquals(TrainingResult.Status.COMPLETED, r.status());
        assertEquals(List.of("0", "2", "4", "5 last"), m.evaluations);
        List<Long> evalSteps = new ArrayList<>();
        ctx.of(TrainingEvent.Kind.EVALUATION).forEach(e -> evalSteps.add(e.step()));
        assertEquals(List.of(0L, 2L, 4L, 5L), evalSteps);
        List<Long> ckptSteps = new ArrayList<>();
        ctx.of(TrainingEvent.Kind.CHECKPOINT).forEach(e -> ckptSteps.add(e.step()));
        assertEquals(List.of(2L, 4L, 5L), ckptSteps);
        assertEquals(List.of(4L, 5L), CHECKPOINTS.steps(tmp), "keep: 2");
        assertEquals(List.of(2L, 4L, 5L), new ArrayList<>(ctx.steps().keySet()), "log_every: 2, and the last step");
        // the final evaluation is the result's
        double finalEval = ctx.of(TrainingEvent.Kind.EVALUATION).get(3).metrics().get(MetricNames.EVAL_LOSS);
        assertEquals(finalEval, r.metrics().get(MetricNames.EVAL_LOSS));
    }

    @Test
    void aDeactivatedTrainerStopsAtTheNextStepWithACheckpoint() throws Exception {
        TrainerGuard guard = new TrainerGuard();
        guard.deactivated("the trainer component was deactivated");
        TestContext ctx = new TestContext(tmp, 6, stage(3));
        TrainingResult r = new TrainingLoop(RUNTIME, new TransformerFactoryImpl(), CHECKPOINTS, WEIGHTS, guard)
                .run(ctx, new LoopSettings(ctx.settings()), TinyMethod.policy(6), new AdamWOptimizer(),
                        new CosineSchedule());
        assertEquals(TrainingResult.Status.STOPPED, r.status());
        assertEquals(0, r.step());
        assertEquals(List.of(0L), CHECKPOINTS.steps(tmp));
        assertTrue(ctx.steps().isEmpty());
        assertTrue(ctx.of(TrainingEvent.Kind.MESSAGE).stream()
                .anyMatch(e -> e.message().contains("the trainer component was deactivated")), ctx.events.toString());
    }

    static Map<String, TensorData> rename(Map<String, TensorData> folder, String prefix) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        folder.forEach((k, v) -> out.put(prefix + k.substring("model.".length()), v));
        return out;
    }

    @Test
    void aNonFiniteLossFailsNamingTheStep() throws Exception {
        TinyMethod m = TinyMethod.policy(2);
        m.nanAtStep = 2; // the third step
        TestContext ctx = new TestContext(tmp, 2, stage(5));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(ctx, m));
        assertTrue(e.getMessage().contains("at step 3"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("optimizer.lr"), "says what to do: " + e.getMessage());
        assertEquals(2, ctx.steps().size(), "the two finite steps were reported");
        assertNotNull(m.atStart);
    }
}
