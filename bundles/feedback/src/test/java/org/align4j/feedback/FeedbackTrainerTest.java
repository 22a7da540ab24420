package org.align4j.feedback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.data.Content;
import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.Example;
import org.align4j.api.data.Examples;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.task.TaskExample;
import org.align4j.api.task.Verdict;
import org.align4j.api.train.TrainingResult;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.data.StructuredDatasetsImpl;
import org.align4j.generate.GeneratorImpl;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.align4j.task.arithmetic.ArithmeticTask;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feedback stage end to end with a tiny policy trained for a few steps on one-digit additions, the real
 * generator, kernel and arithmetic task: it writes all four files, the data bundle reads each back in its format,
 * what they say agrees with the task's verdicts recomputed here, a rerun does nothing, a stop leaves nothing, and the
 * same seed gives the same bytes.
 */
class FeedbackTrainerTest {
    @TempDir
    static Path shared;
    static TinyPolicy policy;
    static final SafetensorsWeightStore STORE = new SafetensorsWeightStore();
    static final GeneratorImpl GENERATOR = new GeneratorImpl(new TransformerFactoryImpl(), STORE, null);
    static final ArithmeticTask TASK = new ArithmeticTask();
    /**
     * About where this recipe's training loss is lowest: it rises again with longer training (the gradients stop
     * matching finite differences; see the feedback bundle's report).
     */
    static final int STEPS = 80;

    @TempDir
    Path tmp;

    @BeforeAll
    static void trainPolicy() throws Exception {
        long t0 = System.nanoTime();
        policy = TinyPolicy.train(shared.resolve("policy"), 24, STEPS, 11);
        System.out.printf("tiny policy: loss %.3f -> %.3f in %d Adam steps, %.1f s%n", policy.firstLoss,
                policy.lastLoss, STEPS, (System.nanoTime() - t0) / 1e9);
    }

    static List<Example> prompts() {
        List<Example> out = new ArrayList<>();
        int line = 1;
        for (TaskExample e : policy.examples) {
            out.add(new PromptCompletionExample("data/stage-2.jsonl", line++, Content.text(e.prompt()),
                    Content.text(e.completion())));
        }
        return out;
    }

    static Map<String, Object> stage(Map<String, Object> noise) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("trainer", "feedback");
        s.put("init", "stage-1");
        s.put("task", "arithmetic");
        s.put("samples", 4);
        s.put("temperature", 1.0);
        s.put("max_tokens", 24);
        s.put("prompts", 16);
        s.put("noise", noise);
        return s;
    }

    static TrainingResult run(StubContext ctx) throws Exception {
        return new FeedbackTrainer(GENERATOR, STORE, new StandardAttention(), TASK).train(ctx);
    }

    /** Partial credit recomputed from a verdict, independently of FeedbackRules. */
    static double credit(Verdict v) {
        double c = 0;
        for (int l : v.stepLabels()) {
            if (l == StepLabel.INCORRECT) {
                break;
            }
            c += l == StepLabel.CORRECT ? 1 : 0;
        }
        return c + (v.correct() ? FeedbackRules.DEFAULT_ANSWER_BONUS : 0);
    }

    @Test
    void writesFourFilesThatTheDataBundleReadsAndThatAgreeWithTheVerifier() throws Exception {
        StubContext ctx = new StubContext(tmp, 5, policy.tokenizer, stage(Map.of()), policy.folder, prompts());
        TrainingResult r = run(ctx);
        assertEquals(TrainingResult.Status.COMPLETED, r.status());
        assertEquals(tmp.resolve("feedback"), r.output());
        assertFalse(Files.exists(r.output().resolve("heldout")), "heldout: 0 (the default) writes no heldout/");
        assertFalse(r.metrics().containsKey("feedback_heldout_prompts"));
        ctx.messages().forEach(m -> System.out.println("  " + m));
        Map<String, Double> m = r.metrics();
        System.out.println("feedback metrics: " + m);
        assertEquals(16.0, m.get("feedback_prompts"));
        assertEquals(64.0, m.get("feedback_completions"));

        StructuredDatasetsImpl reader = new StructuredDatasetsImpl();
        Map<DatasetFormat, Examples> read = new HashMap<>();
        for (Map.Entry<String, DatasetFormat> f : Map.of("pairwise.jsonl", DatasetFormat.PAIRWISE, "listwise.jsonl",
                DatasetFormat.LISTWISE, "pointwise.jsonl", DatasetFormat.POINTWISE, "process.jsonl",
                DatasetFormat.PROCESS).entrySet()) {
            Path file = r.output().resolve(f.getKey());
            assertTrue(Files.isRegularFile(file), f.getKey());
            System.out.println(f.getKey() + ": " + Files.readAllLines(file).stream().findFirst().orElse("(empty)"));
            Examples ex = reader.read(file, f.getValue(), false);
            assertEquals(List.of(), ex.skipped(), f.getKey());
            assertEquals(List.of(), ex.warnings(), f.getKey());
            read.put(f.getValue(), ex);
        }
        List<PairwiseExample> pairs = read.get(DatasetFormat.PAIRWISE).as(PairwiseExample.class);
        List<ListwiseExample> lists = read.get(DatasetFormat.LISTWISE).as(ListwiseExample.class);
        List<PointwiseExample> points = read.get(DatasetFormat.POINTWISE).as(PointwiseExample.class);
        List<ProcessExample> steps = read.get(DatasetFormat.PROCESS).as(ProcessExample.class);
        assertFalse(pairs.isEmpty(), "the half-trained policy's samples differ in quality");
        assertEquals(m.get("feedback_pairs"), (double) pairs.size());
        assertEquals(m.get("feedback_lists"), (double) lists.size());
        assertEquals(64, points.size());
        assertEquals(m.get("feedback_process_records"), (double) steps.size());

        // without noise every pair prefers the completion the verifier gives more credit, by that margin
        for (PairwiseExample p : pairs) {
            String prompt = p.prompt().text();
            double chosen = credit(TASK.verify(prompt, p.chosen().text()));
            double rejected = credit(TASK.verify(prompt, p.rejected().text()));
            assertTrue(chosen > rejected, p.location());
            assertEquals(chosen - rejected, p.margin().getAsDouble(), 1e-12, p.location());
        }
        for (ListwiseExample l : lists) {
            assertTrue(l.completions().size() >= 2 && l.completions().size() <= 4, l.location());
            int[] rank = l.ranking();
            for (int i = 1; i < rank.length; i++) {
                double better = credit(TASK.verify(l.prompt().text(), l.completions().get(rank[i - 1]).text()));
                double worse = credit(TASK.verify(l.prompt().text(), l.completions().get(rank[i]).text()));
                assertTrue(better > worse, l.location() + ": one completion per level of credit");
            }
        }
        long right = 0;
        for (PointwiseExample p : points) {
            Verdict v = TASK.verify(p.prompt().text(), p.completion().text());
            right += v.correct() ? 1 : 0;
            assertTrue(p.score() >= 1 && p.score() <= 5, p.location());
            if (p.score() == 5) {
                assertTrue(v.correct(), p.location() + ": 5 only for a right answer");
            }
            if (p.score() == 1) {
                assertFalse(v.correct(), p.location() + ": 1 only for a wrong answer");
            }
        }
        assertEquals(right / 64.0, m.get("feedback_correct_share"), 1e-12);
        for (ProcessExample p : steps) {
            // the steps with the verifier's labels, then the answer line, labelled by the answer
            String completion = String.join("\n", p.steps());
            Verdict v = TASK.verify(p.prompt(), completion);
            int[] labels = p.labels();
            int[] verifier = v.stepLabels();
            for (int i = 0; i < verifier.length; i++) {
                assertEquals(verifier[i], labels[i], p.location() + " step " + i);
            }
            if (labels.length > verifier.length) {
                assertEquals(verifier.length + 1, labels.length, p.location());
                assertTrue(p.steps().get(verifier.length).startsWith("A:"), p.location());
                assertEquals(v.correct() ? StepLabel.CORRECT : StepLabel.INCORRECT, labels[verifier.length]);
            }
        }
        assertEquals(0.0, m.get("feedback_noisy_pairs") + m.get("feedback_noisy_lists")
                + m.get("feedback_noisy_ratings") + m.get("feedback_noisy_steps"));
    }

    @Test
    void aRerunWithCompleteFilesDoesNothingAndTheSameSeedGivesTheSameBytes() throws Exception {
        Map<String, Object> noise = Map.of("pairs", 0.1, "ranks", 0.1, "ratings", 0.1, "steps", 0.1);
        StubContext first = new StubContext(tmp.resolve("a"), 9, policy.tokenizer, stage(noise), policy.folder,
                prompts());
        Files.createDirectories(first.dir);
        TrainingResult r1 = run(first);
        Path pairwise = r1.output().resolve("pairwise.jsonl");
        long written = Files.getLastModifiedTime(pairwise).toMillis();
        byte[] before = Files.readAllBytes(pairwise);

        StubContext again = new StubContext(tmp.resolve("a"), 9, policy.tokenizer, stage(noise), policy.folder,
                prompts());
        TrainingResult r2 = run(again);
        assertEquals(TrainingResult.Status.COMPLETED, r2.status());
        assertEquals(r1.metrics(), r2.metrics());
        assertEquals(written, Files.getLastModifiedTime(pairwise).toMillis());
        assertTrue(again.messages().stream().anyMatch(s -> s.contains("nothing to do")), again.messages().toString());

        StubContext elsewhere = new StubContext(tmp.resolve("b"), 9, policy.tokenizer, stage(noise), policy.folder,
                prompts());
        Files.createDirectories(elsewhere.dir);
        TrainingResult r3 = run(elsewhere);
        for (String f : FeedbackSet.FILES) {
            assertArrayEquals(Files.readAllBytes(r1.output().resolve(f)), Files.readAllBytes(r3.output().resolve(f)),
                    f);
        }
        assertArrayEquals(before, Files.readAllBytes(pairwise));

        // another seed: other samples, and the folder is made again
        StubContext other = new StubContext(tmp.resolve("a"), 10, policy.tokenizer, stage(noise), policy.folder,
                prompts());
        run(other);
        assertFalse(other.messages().stream().anyMatch(s -> s.contains("nothing to do")));
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(pairwise)), "seed 10 samples otherwise");
    }

    static Examples read(Path file, DatasetFormat format) throws Exception {
        Examples ex = new StructuredDatasetsImpl().read(file, format, false);
        assertEquals(List.of(), ex.skipped(), file.toString());
        assertEquals(List.of(), ex.warnings(), file.toString());
        return ex;
    }

    @Test
    void heldOutQuestionsGetTheVerifiersJudgementWithoutNoiseAndAreLeftOutOfTraining() throws Exception {
        Map<String, Object> stage = stage(Map.of("pairs", 1.0, "ranks", 1.0, "ratings", 1.0, "steps", 1.0));
        stage.put("heldout", 0.5);
        StubContext ctx = new StubContext(tmp, 5, policy.tokenizer, stage, policy.folder, prompts());
        TrainingResult r = run(ctx);
        assertEquals(TrainingResult.Status.COMPLETED, r.status());
        ctx.messages().forEach(m -> System.out.println("  " + m));
        Path main = r.output();
        Path held = main.resolve("heldout");
        Map<String, Double> m = r.metrics();

        // sides: disjoint, together all 16 questions, every answer of a question on its side
        Map<String, Integer> asked = new HashMap<>(); // a question may be asked more than once
        prompts().subList(0, 16).forEach(e -> asked.merge(((PromptCompletionExample) e).prompt().text(), 1,
                Integer::sum));
        Set<String> all = asked.keySet();
        Map<String, Integer> trainSide = new HashMap<>();
        read(main.resolve("pointwise.jsonl"), DatasetFormat.POINTWISE).as(PointwiseExample.class)
                .forEach(p -> trainSide.merge(p.prompt().text(), 1, Integer::sum));
        List<PointwiseExample> points = read(held.resolve("pointwise.jsonl"), DatasetFormat.POINTWISE)
                .as(PointwiseExample.class);
        Map<String, Integer> heldSide = new HashMap<>();
        points.forEach(p -> heldSide.merge(p.prompt().text(), 1, Integer::sum));
        assertFalse(heldSide.isEmpty());
        assertFalse(trainSide.isEmpty());
        Set<String> both = new HashSet<>(heldSide.keySet());
        both.retainAll(trainSide.keySet());
        assertEquals(Set.of(), both, "no question on both sides");
        Set<String> union = new HashSet<>(heldSide.keySet());
        union.addAll(trainSide.keySet());
        assertEquals(all, union);
        heldSide.forEach((q, n) -> assertEquals(4 * asked.get(q), n, q));
        trainSide.forEach((q, n) -> assertEquals(4 * asked.get(q), n, q));
        assertEquals(points.size() / 4.0, m.get("feedback_heldout_prompts"));
        assertEquals(16.0, m.get("feedback_prompts"));

        // held out: exactly the verifier's judgement, though every noise rate is 1
        for (PointwiseExample p : points) {
            assertEquals(HeldOutTest.rating(TASK.verify(p.prompt().text(), p.completion().text())), p.score(),
                    p.location());
        }
        List<PairwiseExample> pairs = read(held.resolve("pairwise.jsonl"), DatasetFormat.PAIRWISE)
                .as(PairwiseExample.class);
        for (PairwiseExample p : pairs) {
            double chosen = credit(TASK.verify(p.prompt().text(), p.chosen().text()));
            double rejected = credit(TASK.verify(p.prompt().text(), p.rejected().text()));
            assertEquals(chosen - rejected, p.margin().getAsDouble(), 1e-12, p.location());
            assertTrue(chosen > rejected, p.location());
        }
        List<ListwiseExample> lists = read(held.resolve("listwise.jsonl"), DatasetFormat.LISTWISE)
                .as(ListwiseExample.class);
        for (ListwiseExample l : lists) {
            int[] rank = l.ranking();
            for (int i = 1; i < rank.length; i++) {
                double better = credit(TASK.verify(l.prompt().text(), l.completions().get(rank[i - 1]).text()));
                double worse = credit(TASK.verify(l.prompt().text(), l.completions().get(rank[i]).text()));
                assertTrue(better > worse || better == worse && rank[i - 1] < rank[i], l.location());
            }
        }
        List<ProcessExample> steps = read(held.resolve("process.jsonl"), DatasetFormat.PROCESS)
                .as(ProcessExample.class);
        for (ProcessExample p : steps) {
            Verdict v = TASK.verify(p.prompt(), String.join("\n", p.steps()));
            int[] verifier = v.stepLabels();
            for (int i = 0; i < Math.min(verifier.length, p.labels().length); i++) {
                assertEquals(verifier[i], p.labels()[i], p.location() + " step " + i);
            }
            if (p.labels().length > verifier.length) {
                assertEquals(v.correct() ? StepLabel.CORRECT : StepLabel.INCORRECT, p.labels()[verifier.length],
                        p.location());
            }
        }
        assertEquals((double) pairs.size(), m.get("feedback_heldout_pairs"));
        assertEquals((double) lists.size(), m.get("feedback_heldout_lists"));
        assertEquals((double) points.size(), m.get("feedback_heldout_ratings"));
        assertEquals((double) steps.size(), m.get("feedback_heldout_process_records"));
        // training side: noisy (noise 1 flips every pair)
        for (PairwiseExample p : read(main.resolve("pairwise.jsonl"), DatasetFormat.PAIRWISE)
                .as(PairwiseExample.class)) {
            assertTrue(credit(TASK.verify(p.prompt().text(), p.chosen().text()))
                    < credit(TASK.verify(p.prompt().text(), p.rejected().text())), p.location());
        }
        assertEquals(m.get("feedback_pairs"), m.get("feedback_noisy_pairs"));

        // a rerun does nothing; with a held-out file missing it makes the folder again
        StubContext again = new StubContext(tmp, 5, policy.tokenizer, stage, policy.folder, prompts());
        assertEquals(m, run(again).metrics());
        assertTrue(again.messages().stream().anyMatch(s -> s.contains("nothing to do")), again.messages().toString());
        byte[] before = Files.readAllBytes(held.resolve("pairwise.jsonl"));
        Files.delete(held.resolve("process.jsonl"));
        StubContext redo = new StubContext(tmp, 5, policy.tokenizer, stage, policy.folder, prompts());
        run(redo);
        assertFalse(redo.messages().stream().anyMatch(s -> s.contains("nothing to do")));
        assertTrue(Files.isRegularFile(held.resolve("process.jsonl")));
        assertArrayEquals(before, Files.readAllBytes(held.resolve("pairwise.jsonl")), "same seed, same bytes");
    }

    @Test
    void aStopLeavesNoFilesAndSaysSo() throws Exception {
        Map<String, Object> stage = stage(Map.of());
        stage.put("heldout", 0.5);
        StubContext ctx = new StubContext(tmp, 5, policy.tokenizer, stage, policy.folder, prompts());
        int[] asked = {0};
        ctx.stopWhen = events -> ++asked[0] >= 2; // after the first group of prompts
        TrainingResult r = run(ctx);
        assertEquals(TrainingResult.Status.STOPPED, r.status());
        assertEquals(FeedbackTrainer.GROUP, r.step());
        assertNull(r.output());
        assertFalse(Files.exists(tmp.resolve("feedback")));
        assertFalse(Files.exists(tmp.resolve(".feedback.tmp")));
        assertTrue(ctx.messages().stream().anyMatch(s -> s.contains("no feedback files were written")),
                ctx.messages().toString());
    }

    @Test
    void aDeactivatedComponentStopsBeforeSampling() throws Exception {
        StubContext ctx = new StubContext(tmp, 5, policy.tokenizer, stage(Map.of()), policy.folder, prompts());
        FeedbackTrainer trainer = new FeedbackTrainer(GENERATOR, STORE, new StandardAttention(), TASK);
        trainer.guard().deactivated("the task bundle stopped");
        TrainingResult r = trainer.train(ctx);
        assertEquals(TrainingResult.Status.STOPPED, r.status());
        assertEquals(0, r.step());
        assertFalse(Files.exists(tmp.resolve("feedback")));
        assertTrue(ctx.messages().stream().anyMatch(s -> s.contains("the task bundle stopped")));
    }

    @Test
    void topKOfOneSamplesTheMostProbableTokenSoEveryPromptIsTied() throws Exception {
        Map<String, Object> s = stage(Map.of());
        s.put("top_k", 1);
        StubContext ctx = new StubContext(tmp, 5, policy.tokenizer, s, policy.folder, prompts());
        TrainingResult r = run(ctx);
        assertEquals(TrainingResult.Status.COMPLETED, r.status());
        assertTrue(ctx.messages().stream().anyMatch(m -> m.contains("temperature 1.0 top_k 1")), ctx.messages()
                .toString());
        // four samples of the single most probable continuation are the same text: nothing to compare
        assertEquals(16.0, r.metrics().get("feedback_tied_prompts"));
        assertEquals(0.0, r.metrics().get("feedback_pairs"));
        assertEquals(64.0, r.metrics().get("feedback_ratings"));
    }

    @Test
    void settingsAreCheckedWithTheKeyNamed() {
        Map<String, Object> s = stage(Map.of("pairs", 1.5));
        SettingsException e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", s)));
        assertTrue(e.getMessage().contains("noise.pairs"), e.getMessage());
        Map<String, Object> noTask = stage(Map.of());
        noTask.remove("task");
        e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", noTask)));
        assertTrue(e.getMessage().contains("task"), e.getMessage());
        Map<String, Object> greedy = stage(Map.of());
        greedy.put("temperature", 0);
        e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", greedy)));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        Map<String, Object> nothingLeft = stage(Map.of());
        nothingLeft.put("top_p", 0);
        e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", nothingLeft)));
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        Map<String, Object> unknown = stage(Map.of());
        unknown.put("sample", 4);
        e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", unknown)));
        assertTrue(e.getMessage().contains("sample"), e.getMessage());
        Map<String, Object> tooMuch = stage(Map.of());
        tooMuch.put("heldout", 0.95);
        e = assertThrows(SettingsException.class,
                () -> new FeedbackStageCheck().validate(org.align4j.api.pipeline.Settings.of("f.yaml", tooMuch)));
        assertTrue(e.getMessage().contains("heldout"), e.getMessage());
    }
}
