package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import org.align4j.api.data.DataException;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingEvent.Kind;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.api.train.TrainingResult.Status;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

class PipelineEngineTest {
    @TempDir
    Path dir;

    final List<TrainingEvent> events = new ArrayList<>();
    final List<String> log = new ArrayList<>();
    final List<TrainingContext> contexts = new ArrayList<>();
    final TestPlugins.Numbered generator = new TestPlugins.Numbered();
    final TestPlugins.Jsonl reader = new TestPlugins.Jsonl();
    final TestPlugins.CharsFactory tokenizers = new TestPlugins.CharsFactory();
    FakeRegistry registry;
    EventBus bus;
    PipelineEngine engine;
    /** What the trainer does at each step: return a status to end the stage there, or null to go on. */
    BiFunction<TrainingContext, Long, Status> atStep = (c, s) -> null;

    final Trainer trainer = context -> {
        contexts.add(context);
        long steps = context.settings().getLong("steps");
        Files.writeString(context.workDir().resolve("trained.txt"), context.stage());
        context.publish(context.event(Kind.STAGE_STARTED).totalSteps(steps).build());
        for (long s = 1; s <= steps; s++) {
            if (context.stopRequested()) {
                return new TrainingResult(Status.STOPPED, s - 1, Map.of(), List.of(), context.workDir());
            }
            Status st = atStep.apply(context, s);
            if (st != null) {
                return new TrainingResult(st, s, Map.of(), List.of(), context.workDir());
            }
            context.publish(context.event(Kind.STEP).step(s).totalSteps(steps).metric(MetricNames.LOSS, 1.0 / s)
                    .build());
        }
        context.count("trained_steps", steps);
        context.publish(context.event(Kind.STAGE_FINISHED).step(steps).totalSteps(steps).build());
        return new TrainingResult(Status.COMPLETED, steps, Map.of(MetricNames.EVAL_LOSS, 0.5), List.of("sample"),
                context.workDir().resolve("final"));
    };

    @BeforeEach
    void setUp() {
        registry = new FakeRegistry()
                .add(PipelineValidatorTest.LM_LOSS, "causal-lm", "org.align4j.loss.lm", new Object())
                .add(PipelineValidatorTest.OPTIMIZER, "adamw", "org.align4j.optimizers", new RecordingOptimizer())
                .add(PipelineValidatorTest.SCHEDULE, "cosine", "org.align4j.optimizers",
                        new org.align4j.api.optim.LearningRateSchedule() {
                            @Override
                            public double rate(long step, long totalSteps, org.align4j.api.pipeline.Settings s) {
                                return 0;
                            }
                        })
                .add(PipelineValidatorTest.ATTENTION, "mha", "org.align4j.attention.standard", new Object())
                .add(PipelineValidatorTest.READER, "jsonl", "org.align4j.data", reader)
                .add(PipelineValidatorTest.GENERATOR, "numbered", "test", generator)
                .add(PipelineValidatorTest.TOKENIZER, "chars", "test", tokenizers)
                .addUnnamed(TextDatasets.class, new TestPlugins.TailSplit())
                .trainer("pretrain", "org.align4j.trainer.pretrain", trainer, PipelineValidatorTest.pretrainRefs());
        bus = new EventBus(log::add);
        bus.add(events::add);
        engine = new PipelineEngine(() -> registry, registry, bus,
                new PipelineEngine.Options(Duration.ofMillis(10), Duration.ofMillis(10), dir),
                System::currentTimeMillis);
    }

    private Path pipeline(String data, String... extraStages) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "run: { name: tiny, workdir: runs/tiny, seed: 7 }",
                "model: { layers: 1, d_model: 16, heads: 2, context: 8 }",
                "data:",
                data,
                "  validation_fraction: 0.1",
                "  tokenizer: { type: chars, vocab: 64 }",
                "stages:",
                "  - { trainer: pretrain, loss: causal-lm, optimizer: { name: adamw, lr: 1e-3 }, steps: 5 }"));
        lines.addAll(List.of(extraStages));
        Path f = dir.resolve("tiny.yaml");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    private static final String GENERATE = "  generate: { name: numbered, count: 40 }";

    @Test
    void aGeneratedCorpusGoesThroughJsonlTokenizerAndEveryStage() throws Exception {
        Path f = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 3 }");
        RunOutcome out = engine.run(f, Map.of());
        Path run = dir.resolve("runs/tiny");

        // the corpus was written as JSON lines and read back through the jsonl reader
        Path corpus = run.resolve("data/corpus.jsonl");
        List<String> lines = Files.readAllLines(corpus);
        assertEquals(40, lines.size());
        ObjectMapper json = new ObjectMapper();
        List<String> docs = generator.generate(org.align4j.api.pipeline.Settings.of("t", Map.of("count", 40)), 7);
        for (int i = 0; i < 40; i++) {
            assertEquals(Map.of("text", docs.get(i)), json.readValue(lines.get(i), Map.class));
        }
        assertEquals("data.generate", generator.calls.get(0).path());
        assertEquals(corpus.toString(), contexts.get(0).train().get(0).source());
        assertEquals(List.of(), Files.list(corpus.getParent()).filter(p -> p.toString().endsWith(".tmp")).toList());
        assertTrue(Files.exists(run.resolve("pipeline.json")));

        // the tokenizer learnt from the train split only, and was saved for a resumed run
        assertEquals(1, tokenizers.trained.size());
        assertEquals(docs.subList(0, 36), tokenizers.trained.get(0));
        assertEquals(Map.of("vocab", 64), tokenizers.settings.get(0).asMap());
        assertTrue(Files.exists(run.resolve("tokenizer.json")));

        // each stage ran in its own directory with the run's data
        assertEquals(2, contexts.size());
        TrainingContext c0 = contexts.get(0);
        assertEquals("tiny", c0.run());
        assertEquals("0:pretrain", c0.stage());
        assertEquals(run.resolve("stage-0-pretrain"), c0.workDir());
        assertEquals("0:pretrain", Files.readString(c0.workDir().resolve("trained.txt")));
        assertEquals("1:pretrain", contexts.get(1).stage());
        assertTrue(Files.isDirectory(run.resolve("stage-1-pretrain")));
        assertEquals("stages[0]", c0.settings().path());
        assertEquals("stages[1]", contexts.get(1).settings().path());
        assertEquals("model", c0.model().path());
        assertEquals(16, c0.model().getInt("d_model"));
        assertEquals("data", c0.data().path());
        assertEquals("text", c0.data().getString("field", "text"));
        assertEquals(7, c0.seed());
        assertEquals(36, c0.train().size());
        assertEquals(4, c0.validation().size());
        assertEquals(docs.get(39), c0.validation().get(3).text("text"));
        assertSame(c0.tokenizer(), contexts.get(1).tokenizer());

        // one configuration per stage, deleted afterwards
        assertEquals(2, registry.configs.size());
        FakeRegistry.Config k0 = registry.configs.get(0);
        assertEquals("org.align4j.trainer.pretrain", k0.pid);
        assertEquals("tiny-0", k0.name);
        assertEquals("tiny/0", k0.properties.get(Trainer.RUN));
        assertEquals("(align4j.name=causal-lm)", k0.properties.get("loss.target"));
        assertEquals("0.001", k0.properties.get("stage.optimizer.lr"));
        assertEquals("tiny-1", registry.configs.get(1).name);
        assertTrue(registry.configs.stream().allMatch(c -> c.deleted));
        assertEquals(1, registry.closed);

        // the outcome and the summary
        assertFalse(out.stopped());
        assertEquals(0, out.exitCode());
        assertEquals(List.of("0:pretrain", "1:pretrain"), out.stageLabels());
        assertEquals(2, out.report().stages().size());
        assertEquals(Status.COMPLETED, out.report().stages().get(1).status());
        Map<String, Long> counters = out.report().counters();
        assertEquals(0L, counters.get(PipelineRun.SKIPPED_LINES));
        assertEquals(40L, counters.get(PipelineRun.DOCUMENTS));
        assertEquals(36L, counters.get(PipelineRun.TRAIN_DOCUMENTS));
        assertEquals(4L, counters.get(PipelineRun.VALIDATION_DOCUMENTS));
        assertEquals((long) c0.tokenizer().vocabSize(), counters.get(PipelineRun.VOCAB_SIZE));
        assertEquals(8L, counters.get("trained_steps"));
        assertEquals(run, out.report().workDir());
        assertEquals(List.of(), engine.running());

        // the events, in order, all pointing at the run's directory
        assertEquals(Kind.RUN_STARTED, events.get(0).kind());
        assertEquals(f.toString(), events.get(0).message());
        assertEquals(Kind.RUN_FINISHED, events.get(events.size() - 1).kind());
        assertTrue(events.stream().allMatch(e -> run.equals(e.workDir()) && e.run().equals("tiny")));
        List<String> stageEvents = new ArrayList<>();
        for (TrainingEvent e : events) {
            if (e.kind() == Kind.STAGE_STARTED || e.kind() == Kind.STAGE_FINISHED) {
                stageEvents.add(e.kind() + " " + e.stage() + " " + e.totalSteps());
            }
        }
        // the trainer's own stage events, not doubled by the pipeline
        assertEquals(List.of("STAGE_STARTED 0:pretrain 5", "STAGE_FINISHED 0:pretrain 5",
                "STAGE_STARTED 1:pretrain 3", "STAGE_FINISHED 1:pretrain 3"), stageEvents);
        assertEquals(8, events.stream().filter(e -> e.kind() == Kind.STEP).count());
        assertTrue(events.stream().anyMatch(e -> e.kind() == Kind.MESSAGE
                && e.message().startsWith("generated 40 documents with numbered (seed 7) into ")));
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void aResumedRunReusesItsTokenizer() throws Exception {
        Path f = pipeline(GENERATE);
        int vocab = engine.run(f, Map.of()).report().counters().get(PipelineRun.VOCAB_SIZE).intValue();
        engine.run(f, Map.of());
        assertEquals(1, tokenizers.trained.size());
        assertEquals(1, tokenizers.loads);
        assertEquals(vocab, contexts.get(1).tokenizer().vocabSize());
        assertTrue(events.stream().anyMatch(e -> e.message().startsWith("tokenizer: reusing ")));
    }

    @Test
    void heldOutExamplesComeFromTheOutputOfTheStageValidationFromNames() throws Exception {
        registry.addUnnamed(org.align4j.api.data.StructuredDatasets.class,
                new org.align4j.data.StructuredDatasetsImpl());
        Path train = dir.resolve("train.jsonl");
        Files.writeString(train, "{\"prompt\": \"1+1=\", \"completion\": \"2\"}\n"
                + "{\"prompt\": \"2+2=\", \"completion\": \"4\"}\n");
        // the fake trainer's output folder is <stage>/final: stage 0's holds the held-out file when stage 1 starts
        Path out0 = Files.createDirectories(dir.resolve("runs/tiny/stage-0-pretrain/final"));
        Files.writeString(out0.resolve("held.jsonl"), "{\"prompt\": \"3+3=\", \"completion\": \"6\"}\n");
        Path f = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 2,",
                "      data: { train: '" + train + "', validation_from: stage-0, validation_file: held.jsonl } }");
        RunOutcome out = engine.run(f, Map.of());
        assertEquals(0, out.exitCode(), log.toString());
        TrainingContext c1 = contexts.get(1);
        assertEquals(2, c1.trainExamples().size());
        assertEquals(1, c1.validationExamples().size());
        assertEquals(out0.resolve("held.jsonl").toString(), c1.validationExamples().get(0).source());
        assertTrue(events.stream().anyMatch(e -> e.kind() == Kind.MESSAGE && e.message().equals(
                "stage 1:pretrain held-out data: 1 examples from " + out0.resolve("held.jsonl"))), events.toString());
    }

    @Test
    void aHeldOutFileIsReadInItsOwnFormatUnlessTheSectionNamesOne() throws Exception {
        registry.addUnnamed(org.align4j.api.data.StructuredDatasets.class,
                new org.align4j.data.StructuredDatasetsImpl());
        Path train = dir.resolve("train.jsonl");
        Files.writeString(train, "{\"prompt\": \"1+1=\", \"completion\": \"2\"}\n");
        Path held = dir.resolve("held.jsonl"); // ppo trains on questions and is judged on the prompts of pairs
        Files.writeString(held, "{\"prompt\": \"3+3=\", \"chosen\": \"6\", \"rejected\": \"7\"}\n");
        Path f = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 2,",
                "      data: { train: '" + train + "', validation_file: '" + held + "' } }");
        RunOutcome out = engine.run(f, Map.of());
        assertEquals(0, out.exitCode(), log.toString());
        assertInstanceOf(org.align4j.api.data.PromptCompletionExample.class, contexts.get(1).trainExamples().get(0));
        assertInstanceOf(org.align4j.api.data.PairwiseExample.class, contexts.get(1).validationExamples().get(0));

        // a format the section names applies to both files: the pairs are not prompt-completion examples
        Path g = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 2,",
                "      data: { train: '" + train + "', format: prompt-completion, validation_file: '" + held + "' } }");
        RunFailure e = assertThrows(RunFailure.class, () -> engine.run(g, Map.of("run.workdir",
                dir.resolve("runs/other").toString())));
        assertEquals("1:pretrain", e.part());
        assertTrue(e.getMessage().contains(held + ":1: "), e.getMessage());
    }

    @Test
    void malformedLinesAreSkippedOnRequestCountedAndShownOnce() throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, "{\"text\": \"a b\"}\nnot json\n{\"text\": \"c d\"}\n{\"other\": 1}\n"
                + "{\"text\": \"e f\"}\n");
        Path f = pipeline("  train: corpus.jsonl\n  skip_malformed: true");
        RunOutcome out = engine.run(f, Map.of());
        assertEquals(2L, out.report().counters().get(PipelineRun.SKIPPED_LINES));
        assertEquals(3L, out.report().counters().get(PipelineRun.DOCUMENTS));
        assertEquals(Map.of("skip_malformed", true, "field", "text"), reader.calls.get(0).asMap());
        List<String> skipped = events.stream().filter(e -> e.message().startsWith("skipped ")).map(
                TrainingEvent::message).toList();
        assertEquals(List.of("skipped " + corpus + ":2: invalid JSON",
                "skipped " + corpus + ":4: field \"text\": expected a string, got nothing (missing)"), skipped);
        assertTrue(out.toString().contains("skipped_lines 2"), out.toString());
    }

    @Test
    void withoutSkippingTheFirstMalformedLineFailsTheRunInItsDataPart() throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, "{\"text\": \"a b\"}\nnot json\n");
        Path f = pipeline("  train: corpus.jsonl");
        RunFailure e = assertThrows(RunFailure.class, () -> engine.run(f, Map.of()));
        assertEquals("data", e.part());
        assertInstanceOf(DataException.class, e.getCause());
        assertEquals("run tiny failed in data: " + corpus + ":2: invalid JSON", e.getMessage());
        assertEquals(1, RunOutcome.exitCode(e));
        TrainingEvent last = events.get(events.size() - 1);
        assertEquals(Kind.RUN_FAILED, last.kind());
        assertEquals("data: " + corpus + ":2: invalid JSON", last.message());
        assertTrue(registry.configs.isEmpty());
    }

    @Test
    void aStopEndsTheRunAtTheStagesNextBoundaryAndTheLaterStagesDoNotRun() throws Exception {
        atStep = (c, s) -> {
            if (s == 3) {
                assertEquals(List.of("tiny"), engine.stop("tiny", "asked by the test"));
            }
            return null;
        };
        Path f = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 3 }");
        RunOutcome out = engine.run(f, Map.of());
        assertTrue(out.stopped());
        assertEquals(RunOutcome.EXIT_STOPPED, out.exitCode());
        assertEquals("asked by the test", out.stopReason());
        assertEquals(1, out.report().stages().size());
        assertEquals(3, out.report().stages().get(0).step());
        assertEquals(1, contexts.size());
        assertEquals("asked by the test", contexts.get(0).stopReason());
        assertTrue(registry.configs.get(0).deleted);
        TrainingEvent last = events.get(events.size() - 1);
        assertEquals(Kind.RUN_FAILED, last.kind());
        assertEquals("stopped: asked by the test; run the same pipeline again to resume", last.message());
        assertTrue(out.toString().contains("to resume, run the same pipeline again (" + f + ", same overrides)"),
                out.toString());
        assertEquals(List.of(), engine.stop("tiny", "again"));
    }

    @Test
    void interruptingTheRunThreadIsAStop() throws Exception {
        atStep = (c, s) -> {
            if (s == 2) {
                Thread.currentThread().interrupt();
            }
            return null;
        };
        try {
            RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
            assertTrue(out.stopped());
            assertEquals("interrupted", out.stopReason());
            assertEquals(2, out.report().stages().get(0).step());
            // the interrupt became the stop request: the trainer could still write its checkpoint
            assertFalse(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aTrainerThatThrowsFailsTheRunNamingTheStageAndItsConfigurationIsDeleted() throws Exception {
        atStep = (c, s) -> {
            throw new IllegalStateException("model.layers: out of memory");
        };
        RunFailure e = assertThrows(RunFailure.class, () -> engine.run(pipeline(GENERATE), Map.of()));
        assertEquals("0:pretrain", e.part());
        assertEquals("run tiny failed in 0:pretrain: model.layers: out of memory", e.getMessage());
        assertTrue(registry.configs.get(0).deleted);
        assertEquals(List.of(), engine.running());
        assertEquals(Kind.RUN_FAILED, events.get(events.size() - 1).kind());
    }

    @Test
    void aTrainerThatDoesNotAppearFailsWithTheRegistrysExplanation() throws Exception {
        registry.startFailure = "trainer pretrain did not register: it is waiting for its reference \"loss\"";
        RunFailure e = assertThrows(RunFailure.class, () -> engine.run(pipeline(GENERATE), Map.of()));
        assertEquals("0:pretrain", e.part());
        assertTrue(e.getMessage().endsWith(registry.startFailure));
        assertTrue(contexts.isEmpty());
    }

    @Test
    void anInvalidFileRunsNothing() throws Exception {
        Path f = pipeline(GENERATE);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("stages[0].loss", "causal-lmm");
        assertThrows(org.align4j.api.pipeline.SettingsException.class, () -> engine.run(f, o));
        assertTrue(events.isEmpty());
        assertFalse(Files.exists(dir.resolve("runs")));
    }

    @Test
    void checkingAFileValidatesItAsARunWouldAndRunsNothing() throws Exception {
        Path f = pipeline(GENERATE, "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw, steps: 3 }");
        PipelinePlan plan = engine.check(f, Map.of("run.seed", "9"));
        assertEquals("tiny", plan.name());
        assertEquals(9, plan.seed());
        assertEquals(dir.resolve("runs/tiny"), plan.workDir());
        assertEquals(List.of("0:pretrain", "1:pretrain"), plan.stages().stream().map(PipelinePlan.Stage::label)
                .collect(java.util.stream.Collectors.toList()));
        assertEquals(dir.resolve("runs/tiny/stage-1-pretrain"), plan.stages().get(1).dir());
        // no data generated, no tokenizer trained, no trainer called, no event, no folder
        assertTrue(generator.calls.isEmpty());
        assertTrue(contexts.isEmpty());
        assertTrue(events.isEmpty());
        assertFalse(Files.exists(dir.resolve("runs")));
        assertTrue(engine.running().isEmpty());

        // what run refuses, check refuses with the same message
        Map<String, String> o = Map.of("stages[1].loss", "causal-lmm");
        SettingsException checked = assertThrows(SettingsException.class, () -> engine.check(f, o));
        SettingsException ran = assertThrows(SettingsException.class, () -> engine.run(f, o));
        assertEquals(ran.getMessage(), checked.getMessage());
        assertTrue(checked.getMessage().contains("causal-lmm"), checked.getMessage());
    }

    @Test
    void theSameRunCannotRunTwiceAtOnce() throws Exception {
        Path f = pipeline(GENERATE);
        List<String> nested = new ArrayList<>();
        atStep = (c, s) -> {
            if (s == 1) {
                nested.add(assertThrows(IllegalStateException.class, () -> engine.run(f, Map.of())).getMessage());
                assertEquals(List.of("tiny"), engine.running());
            }
            return null;
        };
        engine.run(f, Map.of());
        assertEquals(List.of("run tiny (" + dir.resolve("runs/tiny") + ") is already running; stop it first"
                + " (align4j:stop tiny) or give this run another run.name and run.workdir"), nested);
    }

    @Test
    void aThrowingListenerIsLoggedAndIgnored() throws Exception {
        EventBus bus = new EventBus(log::add);
        bus.add(e -> {
            throw new IllegalStateException("sink broken");
        });
        bus.add(events::add);
        engine = new PipelineEngine(() -> registry, registry, bus,
                new PipelineEngine.Options(Duration.ofMillis(10), Duration.ofMillis(10), dir),
                System::currentTimeMillis);
        RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
        assertFalse(out.stopped());
        assertEquals(Kind.RUN_FINISHED, events.get(events.size() - 1).kind());
        assertEquals(3, log.size(), log.toString());
        assertTrue(log.get(0).endsWith("failed on RUN_STARTED of run tiny: sink broken"), log.get(0));
        assertTrue(log.get(2).endsWith("(further failures of this listener are not shown)"));
    }

    @Test
    void stopAllWaitsForTheRunsToEnd() throws Exception {
        Path f = pipeline(GENERATE);
        java.util.concurrent.CountDownLatch inStage = new java.util.concurrent.CountDownLatch(1);
        atStep = (c, s) -> {
            inStage.countDown();
            while (!c.stopRequested()) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return null;
        };
        Thread t = new Thread(() -> {
            try {
                engine.run(f, Map.of());
            } catch (RunFailure e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        inStage.await();
        assertEquals(List.of(), engine.stopAll("shutdown", Duration.ofSeconds(10)));
        t.join(10_000);
        assertFalse(t.isAlive());
        assertEquals("shutdown", contexts.get(0).stopReason());
        assertEquals(List.of(), engine.running());
    }

    @Test
    void aTrainerThatGoesAwayStopsTheRunAndSaysWhy() throws Exception {
        atStep = (c, s) -> {
            if (s == 2) {
                registry.trainerGone(null); // its bundle, or a plugin it needs, stopped
            }
            return null;
        };
        RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
        assertTrue(out.stopped());
        assertEquals("the trainer of stage 0:pretrain went away (its bundle or a plugin it needs stopped)",
                contexts.get(0).stopReason());
    }

    @Test
    void aTrainerGoneAtShutdownSaysSo() throws Exception {
        atStep = (c, s) -> {
            if (s == 2) {
                registry.trainerGone("align4j is shutting down");
            }
            return null;
        };
        RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
        assertTrue(out.stopped());
        assertEquals("align4j is shutting down", contexts.get(0).stopReason());
        assertTrue(events.stream().noneMatch(e -> String.valueOf(e.message()).contains("went away")), events::toString);
    }

    @Test
    void aTrainerThatStopsByItselfStopsTheRunWithAReason() throws Exception {
        atStep = (c, s) -> s == 2 ? Status.STOPPED : null;
        RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
        assertTrue(out.stopped());
        assertEquals("trainer pretrain 0.1.0 [org.align4j.trainer.pretrain] stopped stage 0:pretrain by itself (its"
                + " messages above say why)", out.stopReason());
        assertEquals(Kind.RUN_FAILED, events.get(events.size() - 1).kind());
        assertEquals("stopped: trainer pretrain 0.1.0 [org.align4j.trainer.pretrain] stopped stage 0:pretrain by itself"
                + " (its messages above say why); run the same pipeline again to resume", events.get(events.size() - 1).message());
    }

    @Test
    void aTrainerThatStopsByItselfAtShutdownSaysSo() throws Exception {
        registry.stopCause = "align4j is shutting down";
        atStep = (c, s) -> s == 2 ? Status.STOPPED : null;
        RunOutcome out = engine.run(pipeline(GENERATE), Map.of());
        assertEquals("align4j is shutting down", out.stopReason());
        assertTrue(out.toString().startsWith("run tiny stopped in "), out.toString());
        assertTrue(out.toString().contains("): align4j is shutting down\n"), out.toString());
    }

    private Runs queue(int slots) {
        Runs runs = new Runs(new Runs.Engine() {
            @Override
            public PipelinePlan check(org.align4j.api.runs.RunRequest r) {
                return engine.check(r.file(), r.overrides(), r.workspace().orElse(null));
            }

            @Override
            public RunOutcome run(org.align4j.api.runs.RunRequest r, java.util.function.Consumer<RunState> started)
                    throws RunFailure {
                return engine.run(r.file(), r.overrides(), r.workspace().orElse(null), started);
            }
        }, java.util.List::of, (run, stage, name, version) -> retargets.add(run + " " + stage.label() + " " + name + " " + version),
                slots, System::currentTimeMillis, log::add);
        bus.add(runs);
        return runs;
    }

    final List<String> retargets = new ArrayList<>();

    /** Makes the trainer wait before each step for a permit of the returned gate: the test lets steps go. */
    private java.util.concurrent.Semaphore gateSteps() {
        java.util.concurrent.Semaphore gate = new java.util.concurrent.Semaphore(0);
        atStep = (c, s) -> {
            try {
                gate.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        };
        return gate;
    }

    private static org.align4j.api.runs.RunState waitFor(Runs runs, String id,
            java.util.function.Predicate<org.align4j.api.runs.RunInfo> until) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            org.align4j.api.runs.RunInfo r = runs.run(id).orElseThrow();
            if (until.test(r)) {
                return r.state();
            }
            Thread.sleep(5);
        }
        throw new AssertionError("timed out; run is " + runs.run(id).orElseThrow());
    }

    @Test
    void submittedRunsQueueOneAtATimeAndPauseResumeAndStopAtStepBoundaries() throws Exception {
        Path f = pipeline(GENERATE);
        java.util.concurrent.Semaphore gate = gateSteps();
        Runs runs = queue(1);
        var a = runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of("stages.0.steps", "6")));
        var b = runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of()));
        assertEquals("tiny", a.id());
        assertEquals("tiny~2", b.id()); // same name: a second id, and it waits for the first (same folder too)
        assertEquals(org.align4j.api.runs.RunState.QUEUED, runs.run("tiny~2").orElseThrow().state());
        assertEquals(List.of("tiny~2", "tiny"), runs.runs().stream().map(org.align4j.api.runs.RunInfo::id).toList());
        gate.release(2);
        waitFor(runs, "tiny", r -> r.step() == 2);
        assertEquals(6, runs.run("tiny").orElseThrow().totalSteps());
        assertEquals("0:pretrain", runs.run("tiny").orElseThrow().stage());
        runs.pause("tiny");
        gate.release(1); // step 3 runs, then the run waits at the boundary before step 4
        waitFor(runs, "tiny", r -> r.message().startsWith("paused at step 3"));
        gate.release(3);
        Thread.sleep(200);
        assertEquals(3, runs.run("tiny").orElseThrow().step(), "a paused run takes no step");
        assertThrows(IllegalStateException.class, () -> runs.pause("tiny"));
        runs.resume("tiny");
        waitFor(runs, "tiny", r -> r.step() == 6 && r.state().ended());
        assertEquals(org.align4j.api.runs.RunState.COMPLETED, runs.await("tiny", Duration.ofSeconds(10)).state());
        assertEquals(0, runs.run("tiny").orElseThrow().exitCode());
        assertTrue(runs.run("tiny").orElseThrow().summary().startsWith("run tiny completed"));
        List<org.align4j.api.runs.RunSample> samples = runs.metrics("tiny", 0);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), samples.stream().map(org.align4j.api.runs.RunSample::step)
                .toList());
        assertEquals(1.0 / 4, samples.get(3).metrics().get(MetricNames.LOSS), 1e-12);
        assertEquals(List.of(5L, 6L), runs.metrics("tiny", 4).stream().map(org.align4j.api.runs.RunSample::step)
                .toList());
        List<String> lines = runs.log("tiny", 0).stream().map(org.align4j.api.runs.RunLogLine::text).toList();
        assertTrue(lines.contains("pause asked: the run waits at its next step boundary"), lines.toString());
        assertTrue(lines.contains("resumed at step 3"), lines.toString());
        assertTrue(lines.get(lines.size() - 1).equals("run completed"), lines.toString());

        // the second one started once the first ended; a stop ends it at its next boundary
        waitFor(runs, "tiny~2", r -> r.state() == org.align4j.api.runs.RunState.RUNNING);
        gate.release(1);
        waitFor(runs, "tiny~2", r -> r.step() == 1);
        runs.stop("tiny~2", "enough");
        gate.release(10);
        org.align4j.api.runs.RunInfo stopped = runs.await("tiny~2", Duration.ofSeconds(10));
        assertEquals(org.align4j.api.runs.RunState.STOPPED, stopped.state());
        assertEquals("enough", stopped.message());
        assertEquals(3, stopped.exitCode());
    }

    @Test
    void aQueuedRunIsDroppedByAStopAndAnInvalidFileIsRefusedAtSubmit() throws Exception {
        Path f = pipeline(GENERATE);
        java.util.concurrent.Semaphore hold = gateSteps();
        Runs runs = queue(1);
        runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of()));
        runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of()));
        assertEquals(org.align4j.api.runs.RunState.STOPPED, runs.stop("tiny~2", "not needed").state());
        SettingsException bad = assertThrows(SettingsException.class, () -> runs.submit(
                org.align4j.api.runs.RunRequest.of(f, Map.of("stages.0.loss", "nope"))));
        assertTrue(bad.getMessage().contains("nope"), bad.getMessage());
        assertEquals(2, runs.runs().size(), "nothing queued for the invalid file");
        assertThrows(java.util.NoSuchElementException.class, () -> runs.pause("other"));
        hold.release(1_000);
        assertEquals(org.align4j.api.runs.RunState.COMPLETED, runs.await("tiny", Duration.ofSeconds(10)).state());
        assertEquals(org.align4j.api.runs.RunState.STOPPED, runs.run("tiny~2").orElseThrow().state());
    }

    @Test
    void aRewardModelIsRetargetedOnlyWhileAStageThatScoresWithOneRuns() throws Exception {
        Path f = pipeline(GENERATE);
        Runs runs = queue(1);
        java.util.concurrent.Semaphore hold = gateSteps();
        runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of()));
        waitFor(runs, "tiny", r -> !r.stage().isEmpty());
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> runs.retargetReward("tiny", "rm", ""));
        assertTrue(none.getMessage().contains("scores with no reward model"), none.getMessage());
        assertFalse(runs.run("tiny").orElseThrow().rewardStage());
        hold.release(1_000);
        runs.await("tiny", Duration.ofSeconds(10));
        assertThrows(IllegalStateException.class, () -> runs.retargetReward("tiny", "rm", ""));
        assertEquals(List.of(), retargets);
    }

    @Test
    void aConfinedRunMayNameNoPathOutsideItsWorkspace() throws Exception {
        Path ws = Files.createDirectories(dir.resolve("ws"));
        Path f = pipeline(GENERATE);
        Path inside = Files.copy(f, ws.resolve("tiny.yaml"));
        Runs runs = queue(1);
        IllegalArgumentException outsideFile = assertThrows(IllegalArgumentException.class,
                () -> runs.submit(org.align4j.api.runs.RunRequest.of(f, Map.of()).confinedTo(ws)));
        assertTrue(outsideFile.getMessage().contains("outside the workspace"), outsideFile.getMessage());
        for (String[] c : new String[][] {{"run.workdir", "../escape"}, {"run.workdir", "/tmp/abs"},
            {"data.train", "../../etc/passwd"}}) {
            SettingsException e = assertThrows(SettingsException.class, () -> runs.submit(
                    org.align4j.api.runs.RunRequest.of(inside, Map.of(c[0], c[1])).confinedTo(ws)));
            assertEquals(c[0], e.key());
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("outside the workspace"),
                    e.getMessage());
        }
        Path out = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(ws.resolve("link"), out);
        SettingsException link = assertThrows(SettingsException.class, () -> runs.submit(
                org.align4j.api.runs.RunRequest.of(inside, Map.of("run.workdir", "link/run")).confinedTo(ws)));
        assertTrue(link.getMessage().contains("symbolic link leads to " + out.toRealPath()), link.getMessage());
        Files.writeString(out.resolve("secret.jsonl"), "{\"text\": \"secret\"}\n");
        Files.createSymbolicLink(ws.resolve("corpus.jsonl"), out.resolve("secret.jsonl"));
        SettingsException named = assertThrows(SettingsException.class, () -> runs.submit(
                org.align4j.api.runs.RunRequest.of(inside, Map.of("data.train", "corpus.jsonl")).confinedTo(ws)));
        assertEquals("data.train", named.key());
        Files.createSymbolicLink(ws.resolve("dangling"), dir.resolve("not-yet"));
        assertThrows(SettingsException.class, () -> runs.submit(
                org.align4j.api.runs.RunRequest.of(inside, Map.of("run.workdir", "dangling/x")).confinedTo(ws)));
        // inside: relative paths resolve against the workspace
        var ok = runs.submit(org.align4j.api.runs.RunRequest.of(Path.of("tiny.yaml"), Map.of()).confinedTo(ws));
        assertEquals(ws.resolve("runs/tiny"), ok.workDir());
        assertEquals(org.align4j.api.runs.RunState.COMPLETED, runs.await(ok.id(), Duration.ofSeconds(20)).state());
    }
}
