package org.align4j.feedback;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.task.Verdict;
import org.align4j.training.Json;

/**
 * The four feedback datasets of a stage, as JSONL lines, built prompt by prompt from the verdicts on its K completions
 * ({@link FeedbackRules}) with annotator noise ({@link LabelNoise}) and counted. Formats (TRL's, as the data bundle
 * reads them):
 *
 * <pre>
 * pairwise.jsonl   {"prompt": p, "chosen": c, "rejected": r, "margin": m}
 * listwise.jsonl   {"prompt": p, "completions": [c0, ...], "ranking": [i, ...]}   (one per level of credit; best first)
 * pointwise.jsonl  {"prompt": p, "completion": c, "score": 1..5}
 * process.jsonl    {"prompt": p, "completions": [step, ...], "labels": [true | false | null, ...]}
 * </pre>
 *
 * Labels: {@code true} correct, {@code false} incorrect, {@code null} neutral. Completions appear in the order they
 * were sampled.
 *
 * <p>The questions {@link HeldOut} chooses go, with all their answers and without any noise, into a second set of the
 * same four files ({@link #heldout}, written to {@code heldout/}) and not into the training files ({@link #main}). The
 * counts of the policy's answers (prompts, completions, correct share, credit, ties) cover both; the file counts are
 * per part.
 */
final class FeedbackSet {
    static final String PAIRWISE = "pairwise.jsonl";
    static final String LISTWISE = "listwise.jsonl";
    static final String POINTWISE = "pointwise.jsonl";
    static final String PROCESS = "process.jsonl";
    static final List<String> FILES = List.of(PAIRWISE, LISTWISE, POINTWISE, PROCESS);

    /** The lines of the four files of one part (training or held out), and their counts. */
    static final class Part {
        final List<String> pairwise = new ArrayList<>();
        final List<String> listwise = new ArrayList<>();
        final List<String> pointwise = new ArrayList<>();
        final List<String> process = new ArrayList<>();
        long prompts;
        long steps;

        /** The lines of {@code file} (one of {@link #FILES}). */
        List<String> lines(String file) {
            switch (file) {
                case PAIRWISE:
                    return pairwise;
                case LISTWISE:
                    return listwise;
                case POINTWISE:
                    return pointwise;
                case PROCESS:
                    return process;
                default:
                    throw new IllegalArgumentException(file);
            }
        }
    }

    private final double answerBonus;
    private boolean outcomePairs;
    private final LabelNoise noise;
    private final long seed;
    private final HeldOut heldOut;

    /** The training files (with noise). */
    final Part main = new Part();
    /** The held-out files (without noise); empty unless {@link #holdsOut()}. */
    final Part heldout = new Part();

    final List<String> pairwise = main.pairwise;
    final List<String> listwise = main.listwise;
    final List<String> pointwise = main.pointwise;
    final List<String> process = main.process;

    long prompts;
    long completions;
    long correct;
    long allStepsCorrect;
    double creditSum;
    long tiedPrompts;
    long noisyPairs;
    long noisyLists;
    long noisyRatings;
    long noisySteps;

    FeedbackSet(double answerBonus, LabelNoise noise, long seed) {
        this(answerBonus, noise, seed, HeldOut.NONE);
    }

    FeedbackSet(double answerBonus, LabelNoise noise, long seed, HeldOut heldOut) {
        this.answerBonus = answerBonus;
        this.noise = noise;
        this.seed = seed;
        this.heldOut = heldOut;
    }

    /**
     * Pairs only answers of which one has the right final answer and the other not ({@code pairs: outcome}), instead
     * of every two answers with different credit. Set before the first {@link #add}.
     */
    FeedbackSet outcomePairs(boolean on) {
        outcomePairs = on;
        return this;
    }

    /** Whether this set holds questions out (and so writes {@code heldout/}). */
    boolean holdsOut() {
        return heldOut.enabled();
    }

    /**
     * Adds the annotations of prompt number {@code index} (its place in the stage's prompt list: it picks the noise
     * streams) from its completions and their verdicts, in sampling order: into the held-out part, without noise, if
     * {@link HeldOut} chooses its question, else into the training part.
     */
    void add(int index, String prompt, List<String> texts, List<Verdict> verdicts) {
        if (heldOut.test(prompt)) {
            add(index, prompt, texts, verdicts, heldout, LabelNoise.NONE);
        } else {
            add(index, prompt, texts, verdicts, main, noise);
        }
    }

    private void add(int index, String prompt, List<String> texts, List<Verdict> verdicts, Part out,
            LabelNoise noise) {
        int k = texts.size();
        List<FeedbackRules.Judged> judged = new ArrayList<>(k);
        double[] credits = new double[k];
        for (int i = 0; i < k; i++) {
            FeedbackRules.Judged j = new FeedbackRules.Judged(texts.get(i), verdicts.get(i), answerBonus);
            judged.add(j);
            credits[i] = j.credit;
            creditSum += j.credit;
            correct += j.verdict.correct() ? 1 : 0;
            allStepsCorrect += j.verdict.correct() && j.correctPrefix == j.verdict.stepLabels().length ? 1 : 0;
        }
        prompts++;
        out.prompts++;
        completions += k;
        String p = Json.string(prompt);

        if (FeedbackRules.informative(credits)) {
            SplittableRandom pr = LabelNoise.stream(seed, index, LabelNoise.PAIRS);
            int[] distinct = FeedbackRules.firstOfEachText(texts);
            for (FeedbackRules.Pair pair : FeedbackRules.pairs(FeedbackRules.at(credits, distinct))) {
                if (outcomePairs && judged.get(distinct[pair.chosen]).verdict.correct() == judged.get(
                        distinct[pair.rejected]).verdict.correct()) {
                    continue; // both right or both wrong: no outcome preference
                }
                boolean flip = noise.flipPair(pr);
                noisyPairs += flip ? 1 : 0;
                String chosen = texts.get(distinct[flip ? pair.rejected : pair.chosen]);
                String rejected = texts.get(distinct[flip ? pair.chosen : pair.rejected]);
                out.pairwise.add("{\"prompt\":" + p + ",\"chosen\":" + Json.string(chosen) + ",\"rejected\":"
                        + Json.string(rejected) + ",\"margin\":" + Json.number(pair.margin) + "}");
            }
            int[] levels = FeedbackRules.firstOfEachCredit(credits); // at least two: the credits differ
            int[] ranking = FeedbackRules.ranking(FeedbackRules.at(credits, levels));
            noisyLists += noise.swapRanks(ranking, LabelNoise.stream(seed, index, LabelNoise.RANKS)) ? 1 : 0;
            StringBuilder b = new StringBuilder("{\"prompt\":").append(p).append(",\"completions\":[");
            for (int i = 0; i < levels.length; i++) {
                b.append(i == 0 ? "" : ",").append(Json.string(texts.get(levels[i])));
            }
            b.append("],\"ranking\":[");
            for (int i = 0; i < ranking.length; i++) {
                b.append(i == 0 ? "" : ",").append(ranking[i]);
            }
            out.listwise.add(b.append("]}").toString());
        } else {
            tiedPrompts++;
        }

        SplittableRandom rr = LabelNoise.stream(seed, index, LabelNoise.RATINGS);
        SplittableRandom sr = LabelNoise.stream(seed, index, LabelNoise.STEPS);
        for (FeedbackRules.Judged j : judged) {
            int rating = noise.jitter(j.rating, rr);
            noisyRatings += rating != j.rating ? 1 : 0;
            out.pointwise.add("{\"prompt\":" + p + ",\"completion\":" + Json.string(j.text) + ",\"score\":" + rating
                    + "}");
            if (j.steps.isEmpty()) {
                continue;
            }
            int[] labels = j.labels.clone();
            noisySteps += noise.flipSteps(labels, sr);
            out.steps += labels.length;
            StringBuilder b = new StringBuilder("{\"prompt\":").append(p).append(",\"completions\":[");
            for (int i = 0; i < j.steps.size(); i++) {
                b.append(i == 0 ? "" : ",").append(Json.string(j.steps.get(i)));
            }
            b.append("],\"labels\":[");
            for (int i = 0; i < labels.length; i++) {
                b.append(i == 0 ? "" : ",").append(labels[i] == StepLabel.CORRECT ? "true"
                        : labels[i] == StepLabel.INCORRECT ? "false" : "null");
            }
            out.process.add(b.append("]}").toString());
        }
    }

    /** The lines of the training file {@code file} (one of {@link #FILES}). */
    List<String> lines(String file) {
        return main.lines(file);
    }

    /**
     * The stage's metrics; when questions are held out also {@code feedback_heldout_prompts}, {@code _pairs},
     * {@code _lists}, {@code _ratings}, {@code _process_records} and {@code _steps} (the held-out files' counts).
     */
    Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("feedback_prompts", (double) prompts);
        m.put("feedback_completions", (double) completions);
        m.put("feedback_correct_share", completions == 0 ? 0.0 : (double) correct / completions);
        m.put("feedback_all_steps_correct_share", completions == 0 ? 0.0 : (double) allStepsCorrect / completions);
        m.put("feedback_mean_credit", completions == 0 ? 0.0 : creditSum / completions);
        m.put("feedback_tied_prompts", (double) tiedPrompts);
        m.put("feedback_pairs", (double) pairwise.size());
        m.put("feedback_lists", (double) listwise.size());
        m.put("feedback_ratings", (double) pointwise.size());
        m.put("feedback_process_records", (double) process.size());
        m.put("feedback_steps", (double) main.steps);
        m.put("feedback_noisy_pairs", (double) noisyPairs);
        m.put("feedback_noisy_lists", (double) noisyLists);
        m.put("feedback_noisy_ratings", (double) noisyRatings);
        m.put("feedback_noisy_steps", (double) noisySteps);
        if (holdsOut()) {
            m.put("feedback_heldout_prompts", (double) heldout.prompts);
            m.put("feedback_heldout_pairs", (double) heldout.pairwise.size());
            m.put("feedback_heldout_lists", (double) heldout.listwise.size());
            m.put("feedback_heldout_ratings", (double) heldout.pointwise.size());
            m.put("feedback_heldout_process_records", (double) heldout.process.size());
            m.put("feedback_heldout_steps", (double) heldout.steps);
        }
        return m;
    }
}
