package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.task.Task;
import org.align4j.api.task.TaskExample;
import org.align4j.api.task.TaskService;
import org.align4j.api.task.Verdict;
import org.align4j.task.arithmetic.Arithmetic.Problem;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code arithmetic} task: addition with carries, subtraction with borrows, multiplication by partial products,
 * each answered in numbered steps and a final answer line.
 *
 * <p>Prompt {@code "Q: 47*36=?\n"}, completion (lines joined by {@code '\n'}, no newline at the end):
 *
 * <pre>
 * 1. 47*6=282
 * 2. 47*30=1410
 * 3. 282+1410=1692
 * A: 1692
 * </pre>
 *
 * <p>Additions go column by column ({@code 1. 7+6=13, write 3 carry 1} / {@code 2. 4+8+1=13, write 13}), subtractions
 * too, borrowing ten where needed ({@code 1. 13-7=6, write 6 borrow 1} / {@code 2. 10-0-1=9, write 9 borrow 1} /
 * {@code 3. 5-0-1=4, write 4}). The exact format is in {@link WorkedAnswer}, the verifier's rule (which steps are
 * correct, neutral or incorrect) in {@link Verifier}.
 *
 * <p>Settings (see {@link ArithmeticSettings}): {@code count}; {@code difficulty} ({@code easy}, {@code medium},
 * {@code hard}) or {@code digits} and {@code multiplier_digits} (1 to 9); {@code ops} (a subset of {@code +-*}); or
 * the original {@code max_operand}; {@code distinct} (no problem twice). Lengths of prompt + completion in characters
 * (mean / 95th percentile / max, 20000 problems): easy 51 / 65 / 66, medium 42 / 64 / 66, hard 59 / 94 / 98,
 * {@code digits: 3} 64 / 98 / 113, {@code digits: 4} 83 / 130 / 180, {@code max_operand: 20} 46 / 63 / 64. A BPE
 * tokenizer makes at most as many tokens as characters.
 *
 * <pre>
 * generate: { name: arithmetic, difficulty: medium, count: 20000 }
 * </pre>
 *
 * <p>Deterministic: {@link SplittableRandom} seeded with {@code seed}, one problem after the other, so a longer list
 * starts with a shorter one and the corpus generator with the same settings draws the same problems.
 */
@Component(service = Task.class)
@TaskService(name = "arithmetic")
public final class ArithmeticTask implements Task {

    @Override
    public void validate(Settings settings) {
        new ArithmeticSettings(settings, false);
    }

    @Override
    public List<TaskExample> generate(Settings settings, long seed) {
        List<Problem> problems = new ArithmeticSettings(settings, false).problems(seed);
        List<TaskExample> out = new ArrayList<>(problems.size());
        for (Problem p : problems) {
            out.add(WorkedAnswer.example(p));
        }
        return out;
    }

    @Override
    public Verdict verify(String prompt, String completion) {
        return Verifier.verify(Objects.requireNonNull(prompt, "prompt"), Objects.requireNonNull(completion,
                "completion"));
    }
}
