package org.align4j.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.generate.Generator;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.task.Task;
import org.align4j.api.task.Verdict;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * Held-out exact match, as the policy-training methods (SFT, DPO, ...) report it: a model answers held-out prompts
 * greedily, and a task's verifier (or, without a task, equality with the reference answer) judges each answer.
 * {@code eval_exact_match} is the share of right final answers; with a task, {@code eval_steps_correct} the share
 * whose every step is right too.
 *
 * @since 1.1
 */
public final class ExactMatch {
    /** The share of held-out answers whose final answer is right: in [0, 1]. */
    public static final String EVAL_EXACT_MATCH = "eval_exact_match";
    /** With a task: the share of held-out answers whose every step is right too. */
    public static final String EVAL_STEPS_CORRECT = "eval_steps_correct";

    /** A held-out question: the prompt as text (what a verifier reads), its ids, and the reference answer. */
    public static final class Question {
        final String prompt;
        final int[] promptIds;
        final String reference;

        /** @param reference the answer the data gives, or {@code null} (then a task must judge) */
        public Question(String prompt, int[] promptIds, String reference) {
            this.prompt = prompt;
            this.promptIds = promptIds.clone();
            this.reference = reference;
        }

        public String prompt() {
            return prompt;
        }
    }

    /** The answers to some questions and how many were right. */
    public static final class Outcome {
        private final List<String> answers;
        private final boolean[] rightEach;
        private final boolean[] allStepsEach;
        private final int right;
        private final int allSteps;

        Outcome(List<String> answers, boolean[] rightEach, boolean[] allStepsEach) {
            this.answers = answers;
            this.rightEach = rightEach;
            this.allStepsEach = allStepsEach;
            int r = 0;
            int a = 0;
            for (int i = 0; i < rightEach.length; i++) {
                r += rightEach[i] ? 1 : 0;
                a += allStepsEach[i] ? 1 : 0;
            }
            this.right = r;
            this.allSteps = a;
        }

        public List<String> answers() {
            return answers;
        }

        public int right() {
            return right;
        }

        /** With a task: answers whose final answer and every step are right. */
        public int allStepsRight() {
            return allSteps;
        }
    }

    private final Generator generator;
    private final Tokenizer tokenizer;
    private final Task task;
    private final int maxTokens;
    private boolean warned;

    /** @param task the verifier, or {@code null} to compare with the reference answers */
    public ExactMatch(Generator generator, Tokenizer tokenizer, Task task, int maxTokens) {
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.task = task;
        this.maxTokens = maxTokens;
    }

    public boolean hasTask() {
        return task != null;
    }

    /** Greedy answers of the run's model {@code model} to {@code questions}, judged. */
    public Outcome answer(StageRun run, String model, ModelConfig config, AttentionKernel kernel,
            List<Question> questions) {
        List<String> answers = generate(run, model, config, kernel, questions);
        boolean[] right = new boolean[answers.size()];
        boolean[] allSteps = new boolean[answers.size()];
        for (int i = 0; i < answers.size(); i++) {
            right[i] = judge(questions.get(i), answers.get(i));
            allSteps[i] = task != null && everyStepRight(questions.get(i), answers.get(i));
        }
        return new Outcome(answers, right, allSteps);
    }

    /** {@link #answer}, its metrics added to {@code metrics} and a line for the run's log. */
    public void evaluate(StageRun run, long step, String model, ModelConfig config, AttentionKernel kernel,
            List<Question> questions, Map<String, Double> metrics) {
        Outcome o = answer(run, model, config, kernel, questions);
        int n = o.answers.size();
        metrics.put(EVAL_EXACT_MATCH, n == 0 ? 0.0 : (double) o.right / n);
        if (task != null) {
            metrics.put(EVAL_STEPS_CORRECT, n == 0 ? 0.0 : (double) o.allSteps / n);
        }
        Path file = write(run, step, questions, o);
        run.message(step, String.format("held-out exact match at step %d: %d of %d (%.1f%%)%s; answers in %s", step,
                o.right, n, 100.0 * o.right / Math.max(1, n), task == null ? " (answers equal to the reference)"
                        : " (final answers judged by the task's verifier; " + o.allSteps
                                + " with every step right)", file));
    }

    /**
     * The answers of one evaluation, one JSON line per question ({@code prompt}, {@code answer}, {@code right} and,
     * with a task, {@code all_steps_right}), to {@code <stage>/exact-match/step-<step>.jsonl}, whole
     * ({@link Json#write}).
     */
    private Path write(StageRun run, long step, List<Question> questions, Outcome o) {
        Path file = run.context().workDir().resolve("exact-match").resolve("step-" + step + ".jsonl");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < o.answers.size(); i++) {
            b.append("{\"prompt\":").append(Json.string(questions.get(i).prompt)).append(",\"answer\":")
                    .append(Json.string(o.answers.get(i))).append(",\"right\":").append(o.rightEach[i]);
            if (task != null) {
                b.append(",\"all_steps_right\":").append(o.allStepsEach[i]);
            }
            b.append("}\n");
        }
        try {
            Json.write(file, b);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the held-out answers to " + file, e);
        }
        return file;
    }

    /** Whether {@code answer} is right for {@code q}: the task's verdict, else equality with the reference. */
    public boolean judge(Question q, String answer) {
        if (task != null) {
            return task.verify(q.prompt, answer).correct();
        }
        return q.reference != null && answer.strip().equals(q.reference.strip());
    }

    private boolean everyStepRight(Question q, String answer) {
        Verdict v = task.verify(q.prompt, answer);
        if (!v.correct()) {
            return false;
        }
        for (int label : v.stepLabels()) {
            if (label != StepLabel.CORRECT) {
                return false;
            }
        }
        return true;
    }

    private List<String> generate(StageRun run, String model, ModelConfig config, AttentionKernel kernel,
            List<Question> questions) {
        List<int[]> prompts = new ArrayList<>(questions.size());
        int longest = 0;
        for (Question q : questions) {
            prompts.add(q.promptIds);
            longest = Math.max(longest, q.promptIds.length);
        }
        int room = Math.max(1, Math.min(maxTokens, config.context() - longest));
        int[] stops = StopTokens.of(tokenizer);
        GenerationSettings settings = GenerationSettings.builder().maxNewTokens(room).temperature(0)
                .stopTokens(stops).build();
        List<String> out = new ArrayList<>(questions.size());
        if (questions.isEmpty()) {
            return out;
        }
        try (GenerationSession s = generator.open(config, kernel, run.models().get(model).read(run.session()))) {
            if (!warned) {
                s.warnings().forEach(w -> run.message(0, "exact match: " + w));
                warned = true;
            }
            for (List<Completion> c : s.generate(prompts, settings)) {
                out.add(tokenizer.decode(StopTokens.strip(c.get(0).tokens(), stops)));
            }
        }
        return out;
    }

}
