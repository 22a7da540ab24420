package org.align4j.feedback;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.task.Verdict;

/**
 * The four feedback datasets of a stage, as JSONL lines, built prompt by prompt from the verdicts on its K completions
 * ({@link FeedbackRules}) with annotator noise ({@link LabelNoise}) and counted. Formats (TRL's, as the data bundle
 * reads them):
 *
 * <pre>
 * pairwise.jsonl   {"prompt": p, "chosen": c, "rejected": r, "margin": m}
 * listwise.jsonl   {"prompt": p, "completions": [c0, ..., cK-1], "ranking": [i, ...]}      (indices, best first)
 * pointwise.jsonl  {"prompt": p, "completion": c, "score": 1..5}
 * process.jsonl    {"prompt": p, "completions": [step, ...], "labels": [true | false | null, ...]}
 * </pre>
 *
 * Labels: {@code true} correct, {@code false} incorrect, {@code null} neutral. Completions appear in the order they
 * were sampled.
 */
final class FeedbackSet {
    static final String PAIRWISE = "pairwise.jsonl";
    static final String LISTWISE = "listwise.jsonl";
    static final String POINTWISE = "pointwise.jsonl";
    static final String PROCESS = "process.jsonl";
    static final List<String> FILES = List.of(PAIRWISE, LISTWISE, POINTWISE, PROCESS);

    private final double answerBonus;
    private final LabelNoise noise;
    private final long seed;

    final List<String> pairwise = new ArrayList<>();
    final List<String> listwise = new ArrayList<>();
    final List<String> pointwise = new ArrayList<>();
    final List<String> process = new ArrayList<>();

    long prompts;
    long completions;
    long correct;
    long allStepsCorrect;
    double creditSum;
    long tiedPrompts;
    long steps;
    long noisyPairs;
    long noisyLists;
    long noisyRatings;
    long noisySteps;

    FeedbackSet(double answerBonus, LabelNoise noise, long seed) {
        this.answerBonus = answerBonus;
        this.noise = noise;
        this.seed = seed;
    }

    /**
     * Adds the annotations of prompt number {@code index} (its place in the stage's prompt list: it picks the noise
     * streams) from its completions and their verdicts, in sampling order.
     */
    void add(int index, String prompt, List<String> texts, List<Verdict> verdicts) {
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
        completions += k;
        String p = Json.string(prompt);

        if (FeedbackRules.informative(credits)) {
            SplittableRandom pr = LabelNoise.stream(seed, index, LabelNoise.PAIRS);
            for (FeedbackRules.Pair pair : FeedbackRules.pairs(credits)) {
                boolean flip = noise.flipPair(pr);
                noisyPairs += flip ? 1 : 0;
                String chosen = texts.get(flip ? pair.rejected : pair.chosen);
                String rejected = texts.get(flip ? pair.chosen : pair.rejected);
                pairwise.add("{\"prompt\":" + p + ",\"chosen\":" + Json.string(chosen) + ",\"rejected\":"
                        + Json.string(rejected) + ",\"margin\":" + Json.number(pair.margin) + "}");
            }
            if (k >= 2) {
                int[] ranking = FeedbackRules.ranking(credits);
                noisyLists += noise.swapRanks(ranking, LabelNoise.stream(seed, index, LabelNoise.RANKS)) ? 1 : 0;
                StringBuilder b = new StringBuilder("{\"prompt\":").append(p).append(",\"completions\":[");
                for (int i = 0; i < k; i++) {
                    b.append(i == 0 ? "" : ",").append(Json.string(texts.get(i)));
                }
                b.append("],\"ranking\":[");
                for (int i = 0; i < k; i++) {
                    b.append(i == 0 ? "" : ",").append(ranking[i]);
                }
                listwise.add(b.append("]}").toString());
            }
        } else {
            tiedPrompts++;
        }

        SplittableRandom rr = LabelNoise.stream(seed, index, LabelNoise.RATINGS);
        SplittableRandom sr = LabelNoise.stream(seed, index, LabelNoise.STEPS);
        for (FeedbackRules.Judged j : judged) {
            int rating = noise.jitter(j.rating, rr);
            noisyRatings += rating != j.rating ? 1 : 0;
            pointwise.add("{\"prompt\":" + p + ",\"completion\":" + Json.string(j.text) + ",\"score\":" + rating
                    + "}");
            if (j.steps.isEmpty()) {
                continue;
            }
            int[] labels = j.labels.clone();
            noisySteps += noise.flipSteps(labels, sr);
            steps += labels.length;
            StringBuilder b = new StringBuilder("{\"prompt\":").append(p).append(",\"completions\":[");
            for (int i = 0; i < j.steps.size(); i++) {
                b.append(i == 0 ? "" : ",").append(Json.string(j.steps.get(i)));
            }
            b.append("],\"labels\":[");
            for (int i = 0; i < labels.length; i++) {
                b.append(i == 0 ? "" : ",").append(labels[i] == StepLabel.CORRECT ? "true"
                        : labels[i] == StepLabel.INCORRECT ? "false" : "null");
            }
            process.add(b.append("]}").toString());
        }
    }

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

    /** The stage's metrics. */
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
        m.put("feedback_steps", (double) steps);
        m.put("feedback_noisy_pairs", (double) noisyPairs);
        m.put("feedback_noisy_lists", (double) noisyLists);
        m.put("feedback_noisy_ratings", (double) noisyRatings);
        m.put("feedback_noisy_steps", (double) noisySteps);
        return m;
    }
}
