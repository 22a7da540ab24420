package org.align4j.feedback;

import static org.align4j.api.loss.StepLabel.CORRECT;
import static org.align4j.api.loss.StepLabel.INCORRECT;
import static org.align4j.api.loss.StepLabel.NEUTRAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.task.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Held-out questions: the share is within binomial bounds, the choice is reproducible by seed and independent of the
 * order of the questions; written through {@link FeedbackSet} and {@link FeedbackFolder}, the held-out and training
 * questions are disjoint and together are all questions, each question's answers all on one side; and even with
 * every noise rate at 1 the held-out files, read back by the data bundle in each format, say exactly what the
 * verdicts say (rules recomputed here), while the training files are noisy.
 */
class HeldOutTest {
    static final int N = 20_000;

    @TempDir
    Path tmp;

    static List<String> questions(int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add("Q: " + (i / 100) + "+" + (i % 100) + "=?\n");
        }
        return out;
    }

    static Set<String> chosen(HeldOut h, List<String> qs) {
        Set<String> out = new HashSet<>();
        for (String q : qs) {
            if (h.test(q)) {
                out.add(q);
            }
        }
        return out;
    }

    @Test
    void theShareIsWithinBinomialBoundsForEachFraction() {
        List<String> qs = questions(N);
        for (double f : new double[] {0.05, 0.1, 0.5, 0.9}) {
            for (long seed : new long[] {1, 42}) {
                long held = chosen(new HeldOut(f, seed), qs).size();
                LabelNoiseTest.assertRate(f, held, N, "held out at " + f + ", seed " + seed);
            }
        }
        assertEquals(Set.of(), chosen(new HeldOut(0, 7), qs), "0 holds out nothing");
        assertFalse(new HeldOut(0, 7).enabled());
        assertFalse(HeldOut.NONE.enabled());
    }

    @Test
    void theChoiceIsReproducibleBySeedIndependentOfOrderAndNested() {
        List<String> qs = questions(N);
        Set<String> a = chosen(new HeldOut(0.2, 9), qs);
        assertEquals(a, chosen(new HeldOut(0.2, 9), qs), "same seed, same questions");
        List<String> shuffled = new ArrayList<>(qs);
        Collections.shuffle(shuffled, new Random(3));
        assertEquals(a, chosen(new HeldOut(0.2, 9), shuffled), "the order of the questions does not matter");
        assertEquals(a, union(chosen(new HeldOut(0.2, 9), qs.subList(0, N / 2)),
                chosen(new HeldOut(0.2, 9), qs.subList(N / 2, N))), "nor the other questions");

        Set<String> b = chosen(new HeldOut(0.2, 10), qs);
        assertNotEquals(a, b, "another seed, other questions");
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        // independent draws: the overlap is about 0.2 * 0.2 of the questions
        LabelNoiseTest.assertRate(0.04, both.size(), N, "held out under both seeds");

        Set<String> more = chosen(new HeldOut(0.5, 9), qs);
        assertTrue(more.containsAll(a), "a larger fraction holds out a superset");
    }

    private static Set<String> union(Set<String> x, Set<String> y) {
        Set<String> u = new HashSet<>(x);
        u.addAll(y);
        return u;
    }

    @Test
    void fractionsOutsideTheRangeAreRefusedWithTheKeyNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HeldOut(0.95, 1));
        assertTrue(e.getMessage().contains("heldout"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HeldOut(-0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new HeldOut(Double.NaN, 1));
    }

    /** One synthetic answer: its text (unique) and its verdict. */
    record Answer(String text, Verdict verdict) {
    }

    /** K = 2..4 answers per question with random step labels and answers; question i appears at index i. */
    static Map<String, List<Answer>> answers(List<String> qs, long seed) {
        Random r = new Random(seed);
        int[] kinds = {CORRECT, CORRECT, INCORRECT, NEUTRAL};
        Map<String, List<Answer>> out = new LinkedHashMap<>();
        for (int i = 0; i < qs.size(); i++) {
            int k = 2 + r.nextInt(3);
            List<Answer> as = new ArrayList<>(k);
            for (int a = 0; a < k; a++) {
                int n = r.nextInt(4); // 0..3 step lines, then the answer line
                int[] labels = new int[n];
                StringBuilder text = new StringBuilder();
                for (int j = 0; j < n; j++) {
                    labels[j] = kinds[r.nextInt(kinds.length)];
                    text.append("step ").append(j).append(" of answer ").append(a).append(" to ").append(i)
                            .append('\n');
                }
                boolean right = r.nextBoolean();
                text.append("A: ").append(right ? "ok" : "no").append(' ').append(a);
                as.add(new Answer(text.toString(), new Verdict(right, labels, right ? "ok" : "no", "ok", "")));
            }
            out.put(qs.get(i), as);
        }
        return out;
    }

    /** Correct steps before the first incorrect one, plus 2 for a right answer: recomputed here. */
    static double credit(Verdict v) {
        double c = 0;
        for (int l : v.stepLabels()) {
            if (l == INCORRECT) {
                break;
            }
            c += l == CORRECT ? 1 : 0;
        }
        return c + (v.correct() ? 2 : 0);
    }

    static int rating(Verdict v) {
        int n = v.stepLabels().length;
        double prefix = 0;
        for (int l : v.stepLabels()) {
            if (l == INCORRECT) {
                break;
            }
            prefix += l == CORRECT ? 1 : 0;
        }
        double u = ((n == 0 ? 0 : prefix / n) + (v.correct() ? 1 : 0)) / 2;
        return 1 + (int) Math.round(4 * u);
    }

    static Answer find(List<Answer> as, String text) {
        for (Answer a : as) {
            if (a.text.equals(text)) {
                return a;
            }
        }
        throw new AssertionError("not an answer of its question: " + text);
    }

    @Test
    void heldOutFilesSayExactlyWhatTheVerdictsSayEvenWithAllNoiseOnAndTheSidesPartitionTheQuestions()
            throws Exception {
        List<String> qs = new ArrayList<>(questions(400));
        Map<String, List<Answer>> answers = answers(qs, 5);
        LabelNoise all = new LabelNoise(1, 1, 1, 1);
        FeedbackSet set = new FeedbackSet(2.0, all, 17, new HeldOut(0.3, 17));
        for (int i = 0; i < qs.size(); i++) {
            List<Answer> as = answers.get(qs.get(i));
            set.add(i, qs.get(i), as.stream().map(Answer::text).toList(), as.stream().map(Answer::verdict).toList());
        }
        // a question asked again later, at another place: the same side
        String again = qs.get(7);
        List<Answer> as7 = answers.get(again);
        set.add(qs.size(), again, as7.stream().map(Answer::text).toList(),
                as7.stream().map(Answer::verdict).toList());

        FeedbackFolder folder = new FeedbackFolder(tmp);
        folder.write(set, "fp heldout");
        Path main = tmp.resolve("feedback");
        Path held = main.resolve("heldout");
        assertTrue(folder.complete("fp heldout", true).isPresent());

        // sides: by the pointwise files, which have one line per answer of every question
        Map<String, Integer> mainAnswers = new HashMap<>();
        for (PointwiseExample p : FeedbackFilesTest.read(main.resolve("pointwise.jsonl"), DatasetFormat.POINTWISE)
                .as(PointwiseExample.class)) {
            mainAnswers.merge(p.prompt().text(), 1, Integer::sum);
        }
        Map<String, Integer> heldAnswers = new HashMap<>();
        List<PointwiseExample> heldPoints = FeedbackFilesTest.read(held.resolve("pointwise.jsonl"),
                DatasetFormat.POINTWISE).as(PointwiseExample.class);
        for (PointwiseExample p : heldPoints) {
            heldAnswers.merge(p.prompt().text(), 1, Integer::sum);
        }
        Set<String> overlap = new HashSet<>(mainAnswers.keySet());
        overlap.retainAll(heldAnswers.keySet());
        assertEquals(Set.of(), overlap, "no question on both sides");
        assertEquals(new HashSet<>(qs), union(mainAnswers.keySet(), heldAnswers.keySet()), "every question somewhere");
        for (String q : qs) {
            int times = q.equals(again) ? 2 : 1;
            int lines = mainAnswers.getOrDefault(q, 0) + heldAnswers.getOrDefault(q, 0);
            assertEquals(times * answers.get(q).size(), lines, q + ": all its answers, on its one side");
        }
        LabelNoiseTest.assertRate(0.3, heldAnswers.size(), qs.size(), "questions held out of 400");
        Map<String, Double> m = set.metrics();
        assertEquals((double) heldAnswers.size() + (heldAnswers.containsKey(again) ? 1 : 0),
                m.get("feedback_heldout_prompts"));
        assertEquals((double) heldPoints.size(), m.get("feedback_heldout_ratings"));
        assertEquals(qs.size() + 1.0, m.get("feedback_prompts"));

        // held out: ratings exactly as the verdicts give them
        for (PointwiseExample p : heldPoints) {
            Answer a = find(answers.get(p.prompt().text()), p.completion().text());
            assertEquals(rating(a.verdict), p.score(), p.location());
        }
        // pairs: exactly every pair of answers with different credit, the better chosen, by the difference
        Map<String, List<String>> gotPairs = new HashMap<>();
        List<PairwiseExample> heldPairs = FeedbackFilesTest.read(held.resolve("pairwise.jsonl"),
                DatasetFormat.PAIRWISE).as(PairwiseExample.class);
        for (PairwiseExample p : heldPairs) {
            gotPairs.computeIfAbsent(p.prompt().text(), q -> new ArrayList<>()).add(p.chosen().text() + " > "
                    + p.rejected().text() + " by " + p.margin().getAsDouble());
        }
        long expectedPairs = 0;
        for (String q : heldAnswers.keySet()) {
            List<Answer> as = new ArrayList<>(); // a completion sampled twice takes part once
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Answer a : answers.get(q)) {
                if (seen.add(a.text)) {
                    as.add(a);
                }
            }
            List<String> want = new ArrayList<>();
            for (int i = 0; i < as.size(); i++) {
                for (int j = i + 1; j < as.size(); j++) {
                    double ci = credit(as.get(i).verdict);
                    double cj = credit(as.get(j).verdict);
                    if (ci != cj) {
                        Answer better = ci > cj ? as.get(i) : as.get(j);
                        Answer worse = ci > cj ? as.get(j) : as.get(i);
                        want.add(better.text + " > " + worse.text + " by " + Math.abs(ci - cj));
                    }
                }
            }
            List<String> got = new ArrayList<>(gotPairs.getOrDefault(q, List.of()));
            if (q.equals(again)) {
                List<String> twice = new ArrayList<>(want);
                twice.addAll(want);
                want = twice;
            }
            Collections.sort(want);
            Collections.sort(got);
            assertEquals(want, got, q);
            expectedPairs += want.size();
        }
        assertEquals(expectedPairs, heldPairs.size());
        assertTrue(expectedPairs > 50, "enough pairs to mean something: " + expectedPairs);
        assertEquals((double) heldPairs.size(), m.get("feedback_heldout_pairs"));

        // lists: one completion per level of credit, best first; none when all credits are equal
        List<ListwiseExample> heldLists = FeedbackFilesTest.read(held.resolve("listwise.jsonl"),
                DatasetFormat.LISTWISE).as(ListwiseExample.class);
        for (ListwiseExample l : heldLists) {
            List<Answer> as = new ArrayList<>(); // the first completion of each level of credit
            java.util.Set<Double> levels = new java.util.HashSet<>();
            for (Answer a : answers.get(l.prompt().text())) {
                if (levels.add(credit(a.verdict))) {
                    as.add(a);
                }
            }
            assertEquals(as.size(), l.completions().size(), l.location());
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < as.size(); i++) {
                assertEquals(as.get(i).text, l.completions().get(i).text(), l.location());
                order.add(i);
            }
            order.sort((x, y) -> Double.compare(credit(as.get(y).verdict), credit(as.get(x).verdict)));
            assertArrayEquals(order.stream().mapToInt(Integer::intValue).toArray(), l.ranking(), l.location());
        }
        assertEquals((double) heldLists.size(), m.get("feedback_heldout_lists"));

        // steps: the verifier's labels, then the answer line labelled by the answer
        List<ProcessExample> heldSteps = FeedbackFilesTest.read(held.resolve("process.jsonl"),
                DatasetFormat.PROCESS).as(ProcessExample.class);
        long stepCount = 0;
        for (ProcessExample p : heldSteps) {
            Answer a = find(answers.get(p.prompt()), String.join("\n", p.steps()));
            int[] v = a.verdict.stepLabels();
            int[] want = java.util.Arrays.copyOf(v, v.length + 1);
            want[v.length] = a.verdict.correct() ? CORRECT : INCORRECT;
            assertArrayEquals(want, p.labels(), p.location());
            stepCount += want.length;
        }
        assertEquals((double) stepCount, m.get("feedback_heldout_steps"));
        assertEquals((double) heldSteps.size(), m.get("feedback_heldout_process_records"));

        // the training side got the noise: every pair flipped, every rating moved
        List<PairwiseExample> mainPairs = FeedbackFilesTest.read(main.resolve("pairwise.jsonl"),
                DatasetFormat.PAIRWISE).as(PairwiseExample.class);
        assertFalse(mainPairs.isEmpty());
        for (PairwiseExample p : mainPairs) {
            List<Answer> as = answers.get(p.prompt().text());
            assertTrue(credit(find(as, p.chosen().text()).verdict) < credit(find(as, p.rejected().text()).verdict),
                    p.location() + ": noise 1 flips every training pair");
        }
        for (PointwiseExample p : FeedbackFilesTest.read(main.resolve("pointwise.jsonl"), DatasetFormat.POINTWISE)
                .as(PointwiseExample.class)) {
            assertNotEquals(rating(find(answers.get(p.prompt().text()), p.completion().text()).verdict), p.score(),
                    p.location() + ": noise 1 moves every training rating");
        }
        assertEquals((double) mainPairs.size(), m.get("feedback_pairs"));
        assertEquals(m.get("feedback_pairs"), m.get("feedback_noisy_pairs"));
    }

    @Test
    void heldoutZeroWritesNoFolderAndTheSameFilesAsWithoutTheSetting() throws Exception {
        List<String> qs = questions(50);
        Map<String, List<Answer>> answers = answers(qs, 6);
        LabelNoise some = new LabelNoise(0.2, 0.2, 0.2, 0.2);
        FeedbackSet plain = new FeedbackSet(2.0, some, 3);
        FeedbackSet zero = new FeedbackSet(2.0, some, 3, new HeldOut(0, 3));
        for (int i = 0; i < qs.size(); i++) {
            List<Answer> as = answers.get(qs.get(i));
            List<String> texts = as.stream().map(Answer::text).toList();
            List<Verdict> verdicts = as.stream().map(Answer::verdict).toList();
            plain.add(i, qs.get(i), texts, verdicts);
            zero.add(i, qs.get(i), texts, verdicts);
        }
        new FeedbackFolder(tmp.resolve("a")).write(plain, "fp");
        new FeedbackFolder(tmp.resolve("b")).write(zero, "fp");
        assertFalse(Files.exists(tmp.resolve("b/feedback/heldout")));
        for (String f : FeedbackSet.FILES) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a/feedback").resolve(f)),
                    Files.readAllBytes(tmp.resolve("b/feedback").resolve(f)), f);
        }
        assertFalse(zero.metrics().containsKey("feedback_heldout_prompts"));
        assertEquals(plain.metrics(), zero.metrics());
    }

    @Test
    void aFolderMissingAHeldOutFileIsNotComplete() throws Exception {
        List<String> qs = questions(40);
        Map<String, List<Answer>> answers = answers(qs, 8);
        FeedbackSet set = new FeedbackSet(2.0, LabelNoise.NONE, 1, new HeldOut(0.5, 1));
        for (int i = 0; i < qs.size(); i++) {
            List<Answer> as = answers.get(qs.get(i));
            set.add(i, qs.get(i), as.stream().map(Answer::text).toList(), as.stream().map(Answer::verdict).toList());
        }
        FeedbackFolder folder = new FeedbackFolder(tmp);
        folder.write(set, "fp");
        assertEquals(set.metrics(), folder.complete("fp", true).orElseThrow());
        assertFalse(Files.exists(tmp.resolve(".feedback.tmp")));
        Files.delete(tmp.resolve("feedback/heldout/listwise.jsonl"));
        assertTrue(folder.complete("fp", true).isEmpty(), "a held-out file missing: not complete");
    }
}
