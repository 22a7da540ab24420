package org.align4j.feedback;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.task.Task;
import org.align4j.api.task.Verdict;

/**
 * How a task's verdicts on the K completions of one prompt become annotations, as a careful annotator following a
 * rubric would give them. Pure functions of the verdicts; the noise is applied afterwards ({@link LabelNoise}).
 *
 * <p><b>Partial credit</b> of a completion: the number of {@link StepLabel#CORRECT} steps before its first
 * {@link StepLabel#INCORRECT} step ({@link StepLabel#NEUTRAL} steps, e.g. a repeated step, count nothing and do not
 * stop the count), plus {@code answer_bonus} (default 2) when its final answer is right. A right answer reached
 * through a wrong step still gets the bonus (outcome) but only the steps before the wrong one (process).
 *
 * <p><b>Ranking</b> (listwise): one completion per level of credit (the first sampled of that level), by credit, best
 * first, so every ranking is strict: an annotator is not asked to order answers that are equally good (a list of the
 * same right answer sampled five times and one wrong one would hold 10 arbitrary orders in 15 comparisons, and cap
 * Kendall's tau of a perfect reward model far below 1). A prompt whose completions all have the same credit gives no
 * list.
 *
 * <p><b>Pairs</b> (pairwise): every two distinct completions of a prompt with different credits, as InstructGPT takes
 * all K-choose-2 comparisons of a ranking: {@code chosen} the one with more credit, {@code margin} the difference of
 * the credits (positive). A completion sampled twice takes part once (the same comparison is not asked twice); equal
 * credits give no pair; a prompt whose completions are all equally good gives none.
 *
 * <p><b>Rating</b> (pointwise), an absolute 1–5 scale comparable across prompts: with {@code n} step lines and
 * {@code c} correct steps before the first incorrect one, {@code u = (c / n + (answer right ? 1 : 0)) / 2}
 * ({@code c / n} = 0 when {@code n} = 0), rating {@code 1 + round(4u)}: 5 is every step and the answer right, 1 a wrong
 * first step and a wrong answer, 3 a right answer after a wrong first step or all steps right and the answer wrong.
 *
 * <p><b>Steps</b> (process): the completion's lines ({@link Task#STEP_SEPARATOR}; one trailing empty piece dropped)
 * before its final-answer line, each with the verifier's label (neutral: true but not moving the solution forward,
 * such as a repeat); then the final-answer line itself as a last step, labelled correct when the answer is right and
 * incorrect otherwise, so a process reward model also learns to judge the step that decides the outcome (as
 * PRM800K labels the final step). Lines after the answer line are not part of the solution and are left out. A
 * completion with no line at all gives no process record.
 */
final class FeedbackRules {

    /** The default of {@code answer_bonus}. */
    static final double DEFAULT_ANSWER_BONUS = 2.0;

    private FeedbackRules() {
    }

    /** One completion as the rubric sees it. */
    static final class Judged {
        final String text;
        final Verdict verdict;
        /** Correct steps before the first incorrect one. */
        final int correctPrefix;
        final double credit;
        final int rating;
        /** Process steps: the step lines, then the answer line when there is one. */
        final List<String> steps;
        /** One {@link StepLabel} per {@link #steps}. */
        final int[] labels;

        Judged(String text, Verdict verdict, double answerBonus) {
            this.text = text;
            this.verdict = verdict;
            int[] stepLabels = verdict.stepLabels();
            this.correctPrefix = correctPrefix(stepLabels);
            this.credit = credit(verdict, answerBonus);
            this.rating = rating(verdict);
            List<String> lines = lines(text);
            List<String> s = new ArrayList<>();
            int n = Math.min(stepLabels.length, lines.size());
            for (int i = 0; i < n; i++) {
                s.add(lines.get(i));
            }
            int[] l = Arrays.copyOf(stepLabels, n);
            if (lines.size() > stepLabels.length) { // the line after the steps is the final-answer line
                s.add(lines.get(stepLabels.length));
                l = Arrays.copyOf(l, n + 1);
                l[n] = verdict.correct() ? StepLabel.CORRECT : StepLabel.INCORRECT;
            }
            this.steps = Collections.unmodifiableList(s);
            this.labels = l;
        }
    }

    /** The lines of a completion: split on {@link Task#STEP_SEPARATOR}, one trailing empty piece dropped. */
    static List<String> lines(String completion) {
        if (completion.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(Arrays.asList(completion.split(Task.STEP_SEPARATOR, -1)));
        if (out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    /** The number of {@link StepLabel#CORRECT} labels before the first {@link StepLabel#INCORRECT} one. */
    static int correctPrefix(int[] stepLabels) {
        int c = 0;
        for (int label : stepLabels) {
            if (label == StepLabel.INCORRECT) {
                break;
            }
            if (label == StepLabel.CORRECT) {
                c++;
            }
        }
        return c;
    }

    /** Correct steps before the first incorrect one, plus {@code answerBonus} for a right final answer. */
    static double credit(Verdict v, double answerBonus) {
        return correctPrefix(v.stepLabels()) + (v.correct() ? answerBonus : 0.0);
    }

    /** The 1–5 rating of the class comment. */
    static int rating(Verdict v) {
        int[] labels = v.stepLabels();
        double share = labels.length == 0 ? 0.0 : (double) correctPrefix(labels) / labels.length;
        double u = (share + (v.correct() ? 1.0 : 0.0)) / 2.0;
        return 1 + (int) Math.round(4.0 * u);
    }

    /** Indices of {@code credits}, highest credit first, equal credits in index order. */
    static int[] ranking(double[] credits) {
        Integer[] idx = new Integer[credits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(credits[b], credits[a])); // stable: ties keep index order
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    /** The indices of the first occurrence of each distinct text, in sampling order. */
    static int[] firstOfEachText(List<String> texts) {
        Set<String> seen = new HashSet<>();
        return IntStream.range(0, texts.size()).filter(i -> seen.add(texts.get(i))).toArray();
    }

    /** The indices of the first completion of each level of credit, in sampling order. */
    static int[] firstOfEachCredit(double[] credits) {
        Set<Double> seen = new HashSet<>();
        return IntStream.range(0, credits.length).filter(i -> seen.add(credits[i])).toArray();
    }

    /** {@code values} at {@code indices}. */
    static double[] at(double[] values, int[] indices) {
        double[] out = new double[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = values[indices[i]];
        }
        return out;
    }

    /** Whether at least two credits differ (a ranking or a pair means something). */
    static boolean informative(double[] credits) {
        for (double c : credits) {
            if (c != credits[0]) {
                return true;
            }
        }
        return false;
    }

    /** A better and a worse completion of one prompt (indices), and the difference of their credits. */
    static final class Pair {
        final int chosen;
        final int rejected;
        final double margin;

        Pair(int chosen, int rejected, double margin) {
            this.chosen = chosen;
            this.rejected = rejected;
            this.margin = margin;
        }

        @Override
        public String toString() {
            return chosen + ">" + rejected + " (" + margin + ")";
        }
    }

    /** Every two completions with different credits, in ranking order (the better one's rank first). */
    static List<Pair> pairs(double[] credits) {
        int[] rank = ranking(credits);
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < rank.length; i++) {
            for (int j = i + 1; j < rank.length; j++) {
                double d = credits[rank[i]] - credits[rank[j]];
                if (d > 0) {
                    out.add(new Pair(rank[i], rank[j], d));
                }
            }
        }
        return out;
    }
}
