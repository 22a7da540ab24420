package org.align4j.trainer.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

import org.align4j.api.data.Record;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.reward.Scored;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.generate.GeneratorImpl;
import org.align4j.loss.policy.PpoClipLoss;
import org.align4j.model.CheckpointStoreImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.optimizers.ConstantSchedule;
import org.align4j.optimizers.SgdOptimizer;
import org.align4j.tensorflow.TensorFlowRuntimeImpl;
import org.align4j.tokenizer.BpeTokenizerFactory;
import org.align4j.training.ExactMatch;
import org.align4j.training.TrainerGuard;
import org.align4j.training.TrainingLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * PPO on the shared loop with a tiny real model, real generation and a reward model registry written in the test
 * (the real one, in the reward bundle, is exercised by the Pax Exam tests): rollouts are scored and trained on, the
 * reference never moves, a new reward model version takes over at the next rollout and the metrics say so, a run
 * stopped inside an iteration resumes with the same rollout and the same losses, a missing reward model pauses the
 * run (and a timeout turns the pause into a stop with a checkpoint), and the reward-hacking monitor pauses a run whose
 * reward rises while its judge falls.
 */
class PpoMethodTest {
    static final TensorFlowRuntimeImpl RUNTIME = new TensorFlowRuntimeImpl("cpu", 1, 1, false, 7);

    @TempDir
    Path tmp;

    /** One registered reward model: its metadata and the model. */
    static final class Service {
        final RewardModelInfo info;
        final RewardModel model;

        Service(String name, String version, long id, RewardModel model) {
            this.info = new RewardModelInfo(name, version, "test", "test.bundle", id);
            this.model = model;
        }
    }

    /** A registry of reward models with the lease contract: each call takes the newest version of the name now. */
    static final class Registry implements RewardModels {
        final List<Service> services = new CopyOnWriteArrayList<>();

        Optional<Service> best(String name, Optional<String> version) {
            Service best = null;
            for (Service s : services) {
                if (s.info.name().equals(name) && version.map(v -> v.equals(s.info.version())).orElse(true)
                        && (best == null || RewardModels.compareVersions(s.info.version(), best.info.version()) > 0)) {
                    best = s;
                }
            }
            return Optional.ofNullable(best);
        }

        @Override
        public Lease lease(String name, Optional<String> version) throws RewardModelException {
            if (best(name, version).isEmpty()) {
                throw new RewardModelException("no reward model named \"" + name + "\"");
            }
            return new Lease() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public Optional<String> version() {
                    return version;
                }

                @Override
                public Optional<RewardModelInfo> current() {
                    return best(name, version).map(s -> s.info);
                }

                @Override
                public Scored score(List<PromptCompletion> batch) throws RewardModelException {
                    Service s = best(name, version).orElseThrow(() -> new RewardModelException("no reward model"
                            + " named \"" + name + "\" (it went away)"));
                    try {
                        return new Scored(s.model.score(batch), s.info, 1);
                    } catch (Exception e) {
                        throw new RewardModelException(e.getMessage());
                    }
                }

                @Override
                public Scored scoreTokens(List<int[]> prompts, List<int[]> completions) {
                    throw new UnsupportedOperationException();
                }
            };
        }

        @Override
        public Lease lease(String name, Optional<String> version, java.time.Duration timeout, int retries)
                throws RewardModelException {
            return lease(name, version);
        }

        @Override
        public List<RewardModelInfo> models(String ldapFilter) {
            List<RewardModelInfo> out = new ArrayList<>();
            services.forEach(s -> out.add(s.info));
            return out;
        }
    }

    /** A reward that pays for length: the completion's characters / 10. */
    static RewardModel length() {
        return batch -> {
            float[] s = new float[batch.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = batch.get(i).completion().length() / 10f;
            }
            return RewardScores.of(s);
        };
    }

    /** A reward that is {@code start + slope * call} for every completion: a trend set by the test. */
    static RewardModel trend(float start, float slope) {
        AtomicInteger calls = new AtomicInteger();
        return batch -> {
            float[] s = new float[batch.size()];
            java.util.Arrays.fill(s, start + slope * calls.getAndIncrement());
            return RewardScores.of(s);
        };
    }

    static Tokenizer tokenizer() {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            corpus.add("What is " + i + "+" + (i % 3) + "? It is " + (i + i % 3) + ".\nDone.");
        }
        return new BpeTokenizerFactory().train(corpus, Settings.of("tokenizer", Map.of("vocab", 300)), n -> { });
    }

    static ModelConfig config(Tokenizer tok) {
        return ModelConfig.builder().vocabSize(tok.vocabSize()).layers(1).dModel(16).heads(2).ffn(32).context(32)
                .initStd(0.2f).build();
    }

    /** A seeded model written as a model folder (as a stage writes {@code <stage>/model}). */
    static Path folder(Path dir, ModelConfig config, Tokenizer tok, long seed) throws Exception {
        Files.createDirectories(dir);
        Map<String, TensorData> w;
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", config,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                w = m.read(s);
            }
        }
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        store.save(dir.resolve("model.safetensors"), w, Map.of("format", "align4j"));
        store.saveConfig(dir.resolve("config.json"), config);
        tok.save(dir.resolve("tokenizer.json"));
        return dir;
    }

    static List<PpoMethod.Prompt> prompts(Tokenizer tok, int from, int to) {
        List<PpoMethod.Prompt> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String text = "What is " + i + "+" + (i % 3) + "?";
            int[] body = tok.encode(text);
            int[] ids = new int[body.length + 1];
            ids[0] = tok.eosId();
            System.arraycopy(body, 0, ids, 1, body.length);
            out.add(new PpoMethod.Prompt(text, ids, " It is " + (i + i % 3) + "."));
        }
        return out;
    }

    /** What one stage run gave. */
    static final class Run {
        TrainingResult result;
        final List<TrainingEvent> events = new ArrayList<>();

        List<TrainingEvent> of(TrainingEvent.Kind kind) {
            List<TrainingEvent> out = new ArrayList<>();
            events.forEach(e -> {
                if (e.kind() == kind) {
                    out.add(e);
                }
            });
            return out;
        }

        /** The loss of each step, by step number. */
        Map<Long, Double> losses() {
            Map<Long, Double> out = new LinkedHashMap<>();
            of(TrainingEvent.Kind.STEP).forEach(e -> out.put(e.step(), e.metrics().get(MetricNames.LOSS)));
            return out;
        }
    }

    /** A stage: 2 prompts x 4 samples per iteration, 2 epochs of 2 updates of 4 rollouts: 4 steps per iteration. */
    Map<String, Object> stage(int steps) {
        Map<String, Object> stage = new LinkedHashMap<>();
        stage.put("trainer", "ppo");
        stage.put("reward_model", "rm");
        stage.put("steps", steps);
        stage.put("batch", 4);
        stage.put("epochs", 2);
        stage.put("rollout", Map.of("prompts", 2, "samples", 4, "max_tokens", 8));
        stage.put("kl", Map.of("coef", 0.1));
        stage.put("optimizer", Map.of("name", "sgd", "lr", 0.05, "schedule", "constant"));
        stage.put("exact_match", Map.of("samples", 0));
        stage.put("checkpoint", Map.of("every", 1, "keep", 2));
        return stage;
    }

    Run train(Path dir, Path init, Registry registry, Map<String, Object> stage, IntPredicate stopAtStepEvents,
            java.util.function.Consumer<TrainingEvent> onEvent) throws Exception {
        return train(dir, init, registry, stage, stopAtStepEvents, onEvent, config(tokenizer()),
                new StandardAttention());
    }

    Run train(Path dir, Path init, Registry registry, Map<String, Object> stage, IntPredicate stopAtStepEvents,
            java.util.function.Consumer<TrainingEvent> onEvent, ModelConfig config,
            org.align4j.api.attention.AttentionKernel kernel) throws Exception {
        Tokenizer tok = tokenizer();
        Run run = new Run();
        Ctx ctx = new Ctx(dir, 11, tok, stage, run.events, stopAtStepEvents, onEvent);
        PpoSettings cfg = new PpoSettings(ctx.settings());
        TrainerGuard guard = new TrainerGuard();
        GeneratorImpl generator = new GeneratorImpl(new TransformerFactoryImpl(), new SafetensorsWeightStore(),
                RUNTIME);
        PpoMethod.Target target = new PpoMethod.Target(cfg.reward, cfg.rewardVersion);
        try (PpoMethod method = new PpoMethod(cfg, config, config, kernel, new PpoClipLoss(),
                ctx.settings().section("loss").without("name"), generator, tok, registry, () -> target,
                ctx::stopRequested, new ExactMatch(generator, tok, null, 8), prompts(tok, 0, 6),
                prompts(tok, 6, 8), ctx.seed(), init, init, init)) {
            run.result = new TrainingLoop(RUNTIME, new TransformerFactoryImpl(), new CheckpointStoreImpl(),
                    new SafetensorsWeightStore(), guard).run(ctx, cfg.loop, method, new SgdOptimizer(),
                            new ConstantSchedule());
        }
        return run;
    }

    @Test
    void rolloutsAreScoredAndANewRewardModelVersionTakesOverAtTheNextRollout() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Registry registry = new Registry();
        registry.services.add(new Service("rm", "1", 1, length()));
        // when the first update of iteration 2 is published, version 2 arrives and version 1 leaves
        Run run = train(tmp.resolve("swap"), init, registry, stage(12), n -> false, e -> {
            if (e.kind() == TrainingEvent.Kind.STEP && e.step() == 5) {
                registry.services.add(new Service("rm", "2", 2, trend(0.5f, 0f)));
                registry.services.removeIf(s -> s.info.version().equals("1"));
            }
        });
        assertEquals(TrainingResult.Status.COMPLETED, run.result.status());
        List<TrainingEvent> steps = run.of(TrainingEvent.Kind.STEP);
        assertEquals(12, steps.size());
        for (TrainingEvent e : steps) {
            for (String m : List.of("objective/kl", "objective/entropy", "objective/non_score_reward",
                    "objective/rlhf_reward", "objective/scores", "policy/approxkl_avg", "policy/clipfrac_avg",
                    "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg", "val/ratio")) {
                assertTrue(e.metrics().containsKey(m), "step " + e.step() + " lacks " + m + ": " + e.metrics());
            }
            // the sampler drew from the policy the updates evaluate: the same log-probabilities up to rounding
            assertTrue(e.metrics().get("val/logprob_gap_max") < 1e-4, "step " + e.step() + ": " + e.metrics());
            // iteration 1 (steps 1-4) and the updates of iteration 2 were scored by version 1 ... 2 from step 9
            assertEquals(e.step() <= 8 ? "rm 1" : "rm 2", e.labels().get(PpoMethod.REWARD_MODEL), "step " + e.step());
        }
        // the swap is logged once, at the rollout of iteration 3 (step 8), the first one after version 1 left
        List<TrainingEvent> swaps = run.of(TrainingEvent.Kind.SWAP);
        assertEquals(1, swaps.size(), swaps.toString());
        assertEquals(8, swaps.get(0).step());
        assertTrue(swaps.get(0).message().contains("rm 1 [test.bundle] -> rm 2 [test.bundle]"), swaps.get(0)
                .message());
        assertEquals(0.5, steps.get(11).metrics().get("objective/scores"), 1e-6, "version 2 scores every answer 0.5");
        // iteration 1: the policy is the reference, so the KL is 0 and the ratio 1 at the first update
        assertEquals(0.0, steps.get(0).metrics().get("objective/kl"), 1e-6);
        assertEquals(1.0, steps.get(0).metrics().get("val/ratio"), 1e-5);
        assertTrue(steps.get(11).metrics().get("objective/kl") != 0.0, "the policy moved away from the reference");
        // the checkpoints carry the reward model that scored the rollouts trained on
        Checkpoint last = new CheckpointStoreImpl().latest(tmp.resolve("swap")).orElseThrow();
        assertEquals("rm 2", last.state().get("method." + PpoMethod.REWARD_MODEL));
        // the reference was never trained: the weights it ends with are the folder's
        Map<String, TensorData> initial = new SafetensorsWeightStore().load(init.resolve("model.safetensors"))
                .tensors();
        Map<String, TensorData> policy = new SafetensorsWeightStore().load(run.result.output().resolve(
                "model.safetensors")).tensors();
        boolean moved = false;
        for (Map.Entry<String, TensorData> e : initial.entrySet()) {
            moved |= !java.util.Arrays.equals(e.getValue().values(), policy.get(e.getKey()).values());
        }
        assertTrue(moved, "the policy was trained");
        assertTrue(Files.isRegularFile(run.result.output().resolveSibling("value").resolve("model.safetensors")),
                "the value model is written beside the policy");
    }

    @Test
    void aValueWarmUpTrainsTheValueModelOnly() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Registry registry = new Registry();
        registry.services.add(new Service("rm", "1", 1, length()));
        Map<String, Object> stage = stage(4); // one iteration, all of it warm-up
        stage.put("value_warmup", 1);
        Run run = train(tmp.resolve("warmup"), init, registry, stage, n -> false, e -> { });
        assertEquals(TrainingResult.Status.COMPLETED, run.result.status());
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        Map<String, TensorData> initial = store.load(init.resolve("model.safetensors")).tensors();
        Map<String, TensorData> policy = store.load(run.result.output().resolve("model.safetensors")).tensors();
        Map<String, TensorData> value = store.load(run.result.output().resolveSibling("value").resolve(
                "model.safetensors")).tensors();
        for (Map.Entry<String, TensorData> e : initial.entrySet()) {
            assertArrayEquals(e.getValue().values(), policy.get(e.getKey()).values(), "policy " + e.getKey());
        }
        assertTrue(!java.util.Arrays.equals(initial.get("model.blocks.0.attn.q.weight").values(),
                value.get("model.blocks.0.attn.q.weight").values()), "the value model's body was trained");
        assertTrue(run.of(TrainingEvent.Kind.MESSAGE).stream().anyMatch(e -> e.message().contains(
                "(value warm-up: the policy is not trained)")));
    }

    @Test
    void policyAndValueModelsWithSharedHeadsRopeAlibiAndWindowsTrainWithEachKernel() throws Exception {
        Tokenizer tok = tokenizer();
        ModelConfig base = config(tok);
        List<ModelConfig> configs = List.of(
                base.toBuilder().kvHeads(1).positions(ModelConfig.Positions.ROPE).window(4).build(),
                base.toBuilder().positions(ModelConfig.Positions.ALIBI).window(6).build());
        List<org.align4j.api.attention.AttentionKernel> kernels = List.of(new StandardAttention(),
                new org.align4j.attention.fast.FastAttention(),
                new org.align4j.attention.window.SlidingWindowAttention());
        int n = 0;
        for (ModelConfig config : configs) {
            Path init = folder(tmp.resolve("sft-" + n), config, tok, 5);
            for (org.align4j.api.attention.AttentionKernel kernel : kernels) {
                String what = kernel.getClass().getSimpleName() + " " + config;
                Registry registry = new Registry();
                registry.services.add(new Service("rm", "1", 1, length()));
                Run run = train(tmp.resolve("kernels-" + n++), init, registry, stage(4), i -> false, e -> { },
                        config, kernel);
                assertEquals(TrainingResult.Status.COMPLETED, run.result.status(), what);
                for (TrainingEvent e : run.of(TrainingEvent.Kind.STEP)) {
                    // the sampler (KV-cached decoding) and the update (the whole sequence) agree
                    assertTrue(e.metrics().get("val/logprob_gap_max") < 1e-4, what + ": " + e.metrics());
                    assertTrue(Double.isFinite(e.metrics().get("loss/value_avg")), what + ": " + e.metrics());
                }
                Map<String, TensorData> initial = new SafetensorsWeightStore().load(init.resolve(
                        "model.safetensors")).tensors();
                Map<String, TensorData> value = new SafetensorsWeightStore().load(run.result.output()
                        .resolveSibling("value").resolve("model.safetensors")).tensors();
                assertTrue(!java.util.Arrays.equals(initial.get("model.blocks.0.attn.k.weight").values(),
                        value.get("model.blocks.0.attn.k.weight").values()), what + ": the value model was trained");
                // one key/value head: K is [d_model, kv_heads * head size]
                assertEquals(config.kvHeads() * config.dModel() / config.heads(),
                        value.get("model.blocks.0.attn.k.weight").shape()[1], what);
            }
        }
    }

    @Test
    void aRunStoppedInsideAnIterationResumesWithTheSameRolloutAndLosses() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Registry registry = new Registry();
        registry.services.add(new Service("rm", "1", 1, length()));
        Run whole = train(tmp.resolve("whole"), init, registry, stage(8), n -> false, e -> { });
        // stopped after step 2, inside iteration 1; then run again
        Run first = train(tmp.resolve("parts"), init, registry, stage(8), n -> n >= 2, e -> { });
        assertEquals(TrainingResult.Status.STOPPED, first.result.status());
        assertEquals(2, first.result.step());
        Checkpoint at = new CheckpointStoreImpl().latest(tmp.resolve("parts")).orElseThrow();
        assertEquals(2, at.step());
        assertNotNull(at.tensors().get("method/rollout.advantages"), "the rollout in progress is checkpointed");
        Run rest = train(tmp.resolve("parts"), init, registry, stage(8), n -> false, e -> { });
        assertEquals(TrainingResult.Status.COMPLETED, rest.result.status());
        Map<Long, Double> all = whole.losses();
        Map<Long, Double> resumed = new LinkedHashMap<>(first.losses());
        resumed.putAll(rest.losses());
        System.out.printf("ppo losses: whole %s%n             stopped at 2 and resumed %s%n", all, resumed);
        assertEquals(all.keySet(), resumed.keySet());
        for (long s : all.keySet()) {
            assertEquals(all.get(s), resumed.get(s), 1e-6, "step " + s);
        }
        // the resumed run made no new rollout for iteration 1 (its first message is iteration 2's)
        assertTrue(rest.of(TrainingEvent.Kind.MESSAGE).stream().noneMatch(e -> e.message().contains(
                "iteration 1/2")), "iteration 1 was not sampled again");
        assertTrue(rest.of(TrainingEvent.Kind.SWAP).isEmpty(), "the reward model of the checkpoint is the one"
                + " registered: no swap: " + rest.of(TrainingEvent.Kind.SWAP));
    }

    @Test
    void withoutARewardModelTheRunPausesAndGoesOnWhenOneIsRegistered() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Registry registry = new Registry();
        List<Thread> later = new ArrayList<>();
        long[] paused = new long[1];
        // once the run says it is paused, a reward model arrives half a second later
        Run run = train(tmp.resolve("pause"), init, registry, stage(4), n -> false, e -> {
            if (e.kind() == TrainingEvent.Kind.WARNING) {
                paused[0] = System.nanoTime();
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException x) {
                        return;
                    }
                    registry.services.add(new Service("rm", "1", 1, length()));
                });
                later.add(t);
                t.start();
            }
        });
        for (Thread t : later) {
            t.join();
        }
        assertTrue(paused[0] != 0, "the run said it paused");
        assertEquals(TrainingResult.Status.COMPLETED, run.result.status());
        List<TrainingEvent> warnings = run.of(TrainingEvent.Kind.WARNING);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).message().startsWith("paused at step 0: no reward model rm is registered"),
                warnings.get(0).message());
    }

    @Test
    void aTimeoutTurnsThePauseIntoAStopWithACheckpoint() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Map<String, Object> stage = stage(4);
        stage.put("reward_model", Map.of("name", "rm", "timeout", 0.3));
        Run run = train(tmp.resolve("timeout"), init, new Registry(), stage, n -> false, e -> { });
        assertEquals(TrainingResult.Status.STOPPED, run.result.status());
        assertEquals(0, run.result.step());
        assertTrue(new CheckpointStoreImpl().latest(tmp.resolve("timeout")).isPresent());
        assertTrue(run.of(TrainingEvent.Kind.MESSAGE).stream().anyMatch(e -> e.message().contains(
                "no reward model rm was registered within reward_model.timeout = 0 s")), run.events.toString());
    }

    @Test
    void theMonitorPausesARunWhoseRewardRisesWhileItsJudgeFalls() throws Exception {
        Tokenizer tok = tokenizer();
        Path init = folder(tmp.resolve("sft"), config(tok), tok, 5);
        Registry registry = new Registry();
        registry.services.add(new Service("rm", "1", 1, trend(0f, 0.1f))); // rises every rollout
        registry.services.add(new Service("judge", "1", 2, trend(1f, -0.1f))); // falls every rollout
        Map<String, Object> stage = stage(24);
        stage.put("monitor", Map.of("judge", "judge", "window", 3, "pause", true));
        Run run = train(tmp.resolve("hack"), init, registry, stage, n -> false, e -> { });
        assertEquals(TrainingResult.Status.STOPPED, run.result.status());
        assertEquals(8, run.result.step(), "paused at the rollout of iteration 3, the window's end");
        List<TrainingEvent> warnings = run.of(TrainingEvent.Kind.WARNING);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).message().startsWith("possible reward hacking: over the last 3 iterations"),
                warnings.get(0).message());
        // and a run whose judge agrees with its reward goes to its end
        Registry agreeing = new Registry();
        agreeing.services.add(new Service("rm", "1", 1, trend(0f, 0.1f)));
        agreeing.services.add(new Service("judge", "1", 2, trend(0f, 0.1f)));
        Run fine = train(tmp.resolve("fine"), init, agreeing, stage, n -> false, e -> { });
        assertEquals(TrainingResult.Status.COMPLETED, fine.result.status());
        assertTrue(fine.of(TrainingEvent.Kind.WARNING).isEmpty());
        assertEquals(0.0, fine.of(TrainingEvent.Kind.STEP).get(23).metrics().get("monitor/hacking"));
        assertArrayEquals(new double[] {0.5, 0.5}, new double[] {fine.of(TrainingEvent.Kind.STEP).get(23).metrics()
                .get("objective/scores"), fine.of(TrainingEvent.Kind.STEP).get(23).metrics()
                        .get("monitor/judge_scores")}, 1e-6, "6 rollouts: 0.1 x 5");
    }

    /** Stands in for the pipeline: records events; asks to stop once enough STEP events were published. */
    static final class Ctx implements TrainingContext {
        final Path dir;
        final long seed;
        final Tokenizer tok;
        final Settings stage;
        final List<TrainingEvent> events;
        final IntPredicate stopAt;
        final java.util.function.Consumer<TrainingEvent> onEvent;
        int steps;

        Ctx(Path dir, long seed, Tokenizer tok, Map<String, Object> stage, List<TrainingEvent> events,
                IntPredicate stopAt, java.util.function.Consumer<TrainingEvent> onEvent) {
            this.dir = dir;
            this.seed = seed;
            this.tok = tok;
            this.stage = Settings.of("ppo.yaml", stage);
            this.events = events;
            this.stopAt = stopAt;
            this.onEvent = onEvent;
        }

        @Override
        public String run() {
            return "test";
        }

        @Override
        public String stage() {
            return "0:ppo";
        }

        @Override
        public Path workDir() {
            return dir;
        }

        @Override
        public Settings settings() {
            return stage;
        }

        @Override
        public Settings model() {
            return stage.section("model");
        }

        @Override
        public Settings data() {
            return stage.section("data");
        }

        @Override
        public long seed() {
            return seed;
        }

        @Override
        public Tokenizer tokenizer() {
            return tok;
        }

        @Override
        public List<Record> train() {
            return List.of();
        }

        @Override
        public List<Record> validation() {
            return List.of();
        }

        @Override
        public TrainingEvent.Builder event(TrainingEvent.Kind kind) {
            return TrainingEvent.builder(kind, run()).stage(stage()).workDir(dir);
        }

        @Override
        public void publish(TrainingEvent event) {
            events.add(event);
            if (event.kind() == TrainingEvent.Kind.STEP) {
                steps++;
            }
            onEvent.accept(event);
        }

        @Override
        public boolean stopRequested() {
            return stopAt.test(steps);
        }

        @Override
        public String stopReason() {
            return "the test asked";
        }

        @Override
        public void count(String counter, long n) {
        }
    }
}
