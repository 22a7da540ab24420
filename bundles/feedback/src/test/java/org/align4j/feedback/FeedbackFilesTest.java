package org.align4j.feedback;

import static org.align4j.api.loss.StepLabel.CORRECT;
import static org.align4j.api.loss.StepLabel.INCORRECT;
import static org.align4j.api.loss.StepLabel.NEUTRAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.Examples;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.task.Verdict;
import org.align4j.data.StructuredDatasetsImpl;
import org.align4j.training.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files as written (temporary folder, then renamed into place) are read back by the data bundle in each format
 * with no error and no warning, detected as that format, and say what was put in: texts with quotes, backslashes,
 * control characters and non-ASCII come back unchanged.
 */
class FeedbackFilesTest {
    static final StructuredDatasetsImpl READER = new StructuredDatasetsImpl();

    @TempDir
    Path tmp;

    static final String PROMPT = "Q: 12+\"3\"=?\n\\ caf\u00e9 \ud83d\ude00\t\u0001";
    static final List<String> TEXTS = List.of("1. good \"step\"\nA: 7", "1. bad \\ step\nA: 8",
            "1. good \"step\"\n2. again\nA: 7\n", "");
    static final List<Verdict> VERDICTS = List.of(new Verdict(true, new int[] {CORRECT}, "7", "7", ""),
            new Verdict(false, new int[] {INCORRECT}, "8", "7", "line 1"),
            new Verdict(true, new int[] {CORRECT, NEUTRAL}, "7", "7", "line 2"),
            new Verdict(false, new int[0], "", "7", "no answer"));

    static FeedbackSet set() {
        FeedbackSet set = new FeedbackSet(2.0, LabelNoise.NONE, 1);
        set.add(0, PROMPT, TEXTS, VERDICTS);
        // a prompt whose completions are all equally good: ratings and steps, no pair, no list
        set.add(1, "Q: 1+1=?\n", List.of("A: 3", "A: 4"), List.of(new Verdict(false, new int[0], "3", "2", "x"),
                new Verdict(false, new int[0], "4", "2", "x")));
        return set;
    }

    static Examples read(Path file, DatasetFormat format) throws Exception {
        Examples ex = READER.read(file, format, false);
        assertEquals(List.of(), ex.skipped(), file.toString());
        assertEquals(List.of(), ex.warnings(), file.toString());
        assertEquals(format, READER.read(file, null, false).format(), "detected as " + format);
        return ex;
    }

    @Test
    void eachFileIsReadBackInItsFormatAndSaysWhatWasPutIn() throws Exception {
        FeedbackSet set = set();
        FeedbackFolder folder = new FeedbackFolder(tmp);
        folder.write(set, "fp");
        Path dir = tmp.resolve("feedback");
        assertFalse(Files.exists(tmp.resolve(".feedback.tmp")));

        // credits: 1 + 2 = 3, 0, 1 + 2 = 3, 0
        List<PairwiseExample> pairs = read(dir.resolve("pairwise.jsonl"), DatasetFormat.PAIRWISE)
                .as(PairwiseExample.class);
        List<String> got = new ArrayList<>();
        for (PairwiseExample p : pairs) {
            assertEquals(PROMPT, p.prompt().text());
            got.add(TEXTS.indexOf(p.chosen().text()) + ">" + TEXTS.indexOf(p.rejected().text()) + " "
                    + p.margin().getAsDouble());
        }
        assertEquals(List.of("0>1 3.0", "0>3 3.0", "2>1 3.0", "2>3 3.0"), got);

        List<ListwiseExample> lists = read(dir.resolve("listwise.jsonl"), DatasetFormat.LISTWISE)
                .as(ListwiseExample.class);
        assertEquals(1, lists.size(), "the tied prompt gives no list");
        // one completion per level of credit, the first sampled: 0 (credit 3) and 1 (credit 0)
        assertEquals(2, lists.get(0).completions().size());
        assertEquals(TEXTS.get(0), lists.get(0).completions().get(0).text());
        assertEquals(TEXTS.get(1), lists.get(0).completions().get(1).text());
        assertArrayEquals(new int[] {0, 1}, lists.get(0).ranking());

        List<PointwiseExample> points = read(dir.resolve("pointwise.jsonl"), DatasetFormat.POINTWISE)
                .as(PointwiseExample.class);
        assertEquals(6, points.size());
        double[] scores = new double[6];
        for (int i = 0; i < 6; i++) {
            scores[i] = points.get(i).score();
        }
        // 5: all right; 1: all wrong; 4: (1/2 + 1) / 2 = 3/4; 1: nothing; then the tied prompt's two
        assertArrayEquals(new double[] {5, 1, 4, 1, 1, 1}, scores);
        assertEquals(TEXTS.get(3), points.get(3).completion().text());

        List<ProcessExample> steps = read(dir.resolve("process.jsonl"), DatasetFormat.PROCESS)
                .as(ProcessExample.class);
        assertEquals(5, steps.size(), "the empty completion has no steps");
        assertEquals(PROMPT, steps.get(0).prompt());
        assertEquals(List.of("1. good \"step\"", "A: 7"), steps.get(0).steps());
        assertArrayEquals(new int[] {CORRECT, CORRECT}, steps.get(0).labels());
        assertArrayEquals(new int[] {INCORRECT, INCORRECT}, steps.get(1).labels());
        assertEquals(List.of("1. good \"step\"", "2. again", "A: 7"), steps.get(2).steps());
        assertArrayEquals(new int[] {CORRECT, NEUTRAL, CORRECT}, steps.get(2).labels());
        assertEquals(List.of("A: 3"), steps.get(3).steps());
        assertArrayEquals(new int[] {INCORRECT}, steps.get(3).labels());

        Map<String, Double> m = set.metrics();
        assertEquals(4.0, m.get("feedback_pairs"));
        assertEquals(1.0, m.get("feedback_tied_prompts"));
        assertEquals(2.0 / 6, m.get("feedback_correct_share"), 1e-12);
        assertEquals(1.0 / 6, m.get("feedback_all_steps_correct_share"), 1e-12);
        assertEquals(2 + 2 + 3 + 1 + 1.0, m.get("feedback_steps"));
    }

    @Test
    void aCompleteFolderIsRecognisedOnlyWithItsFingerprintAndAllItsFiles() throws Exception {
        FeedbackSet set = set();
        FeedbackFolder folder = new FeedbackFolder(tmp);
        assertTrue(folder.complete("fp").isEmpty());
        folder.write(set, "fp");
        assertEquals(set.metrics(), folder.complete("fp").orElseThrow());
        assertTrue(folder.complete("other").isEmpty());

        // written again with other settings: replaced whole
        FeedbackSet one = new FeedbackSet(2.0, LabelNoise.NONE, 1);
        one.add(0, "Q: 2+2=?\n", List.of("A: 4", "A: 5"), List.of(new Verdict(true, new int[0], "4", "4", ""),
                new Verdict(false, new int[0], "5", "4", "x")));
        folder.write(one, "other");
        assertEquals(one.metrics(), folder.complete("other").orElseThrow());
        assertEquals(1, Files.readAllLines(tmp.resolve("feedback/pairwise.jsonl")).size());
        assertFalse(Files.exists(tmp.resolve(".feedback.old")));

        Files.delete(tmp.resolve("feedback/process.jsonl"));
        assertTrue(folder.complete("other").isEmpty(), "a file missing: not complete");
    }

    @Test
    void jsonNumbersAndStrings() {
        assertEquals("3", Json.number(3.0));
        assertEquals("0.5", Json.number(0.5));
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", Json.string("a\"b\\c\n\u0001"));
        assertEquals("\"\ufffd\"", Json.string("\ud800"), "a lone surrogate");
    }

    @Test
    void outcomePairsSetARightAnswerAgainstAWrongOneOnly() throws Exception {
        List<String> texts = List.of("1. 3+4=7, write 7\nA: 7", "1. 3+4=7, write 7\nA: 8", "1. 3+4=9, write 9\nA: 9");
        List<Verdict> verdicts = List.of(new Verdict(true, new int[] {CORRECT}, "7", "7", ""),
                new Verdict(false, new int[] {CORRECT}, "8", "7", "answer"),
                new Verdict(false, new int[] {INCORRECT}, "9", "7", "line 1"));
        for (boolean outcome : List.of(false, true)) {
            FeedbackSet set = new FeedbackSet(2.0, LabelNoise.NONE, 1).outcomePairs(outcome);
            set.add(0, "Q: 3+4=?\n", texts, verdicts);
            Path out = tmp.resolve("o" + outcome);
            new FeedbackFolder(out).write(set, "fp");
            List<String> got = new ArrayList<>();
            for (PairwiseExample p : read(out.resolve("feedback/pairwise.jsonl"), DatasetFormat.PAIRWISE)
                    .as(PairwiseExample.class)) {
                got.add(texts.indexOf(p.chosen().text()) + ">" + texts.indexOf(p.rejected().text()));
            }
            // credits 3, 1, 0: by credit all three pairs; by outcome the right answer against each wrong one
            assertEquals(outcome ? List.of("0>1", "0>2") : List.of("0>1", "0>2", "1>2"), got, "outcome " + outcome);
            // rankings and the other files do not depend on it
            assertEquals(1, read(out.resolve("feedback/listwise.jsonl"), DatasetFormat.LISTWISE).examples().size());
        }
    }
}
