package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.align4j.api.task.Task;
import org.align4j.api.task.TaskExample;
import org.align4j.task.arithmetic.Arithmetic.Problem;

/**
 * The worked-answer text format of the arithmetic task. A prompt is {@code "Q: " a op b "=?\n"}; a completion is
 * numbered step lines {@code "1. "}, {@code "2. "}, ... then the answer line {@code "A: " result}, joined by
 * {@code '\n'} (no newline at the end). No spaces inside numbers or equations; numbers have no leading zeros except
 * the digits a column writes.
 *
 * <p><b>Addition</b> {@code a+b}: one step per column, from the ones up, as many columns as the longer operand has
 * digits (a missing digit is 0): {@code x+y=s} or, with the carry from the column before, {@code x+y+1=s}, then
 * {@code , write w}. A column that is not the last writes {@code s mod 10} and, when {@code s >= 10}, adds
 * {@code  carry 1}; the last column writes all of {@code s}. The answer is the written digits read from the last
 * step up.
 *
 * <pre>
 * Q: 47+86=?
 * 1. 7+6=13, write 3 carry 1
 * 2. 4+8+1=13, write 13
 * A: 133
 * </pre>
 *
 * <p><b>Subtraction</b> {@code a-b} with {@code a >= b}: one step per column of {@code a}, from the ones up (a
 * missing digit of {@code b} is 0): {@code x-y=s}, or {@code x-y-1=s} after a borrow; when the top digit is too
 * small the step borrows ten, writing {@code 1x} for the top digit and ending in {@code  borrow 1}. Every step writes
 * its one digit. The answer is the written digits read from the last step up, leading zeros dropped. When {@code a < b}
 * (only the {@code max_operand} sampling makes such problems) the steps are those of {@code b-a} and the answer is its
 * negative.
 *
 * <pre>
 * Q: 503-7=?
 * 1. 13-7=6, write 6 borrow 1
 * 2. 10-0-1=9, write 9 borrow 1
 * 3. 5-0-1=4, write 4
 * A: 496
 * </pre>
 *
 * <p><b>Multiplication</b> {@code a*b}: one partial product per non-zero digit of {@code b}, from the ones up,
 * {@code a*m=p} with {@code m} the digit followed by its zeros; then the partial products summed from the first,
 * {@code p1+p2=s}, {@code s+p3=t}, .... When {@code b} is 0 the one step is {@code a*0=0}.
 *
 * <pre>
 * Q: 47*36=?
 * 1. 47*6=282
 * 2. 47*30=1410
 * 3. 282+1410=1692
 * A: 1692
 * </pre>
 */
final class WorkedAnswer {

    static final String PROMPT_START = "Q: ";
    static final String PROMPT_END = "=?\n";
    static final String ANSWER_START = "A: ";

    private WorkedAnswer() {
    }

    /** {@code Q: 47*36=?\n} */
    static String prompt(Problem p) {
        return PROMPT_START + p.left() + p.op() + p.right() + PROMPT_END;
    }

    /**
     * The problem of a prompt: {@code Q: a<op>b=?}, optionally followed by one {@code \n}; empty if it is anything
     * else.
     */
    static Optional<Problem> parsePrompt(String prompt) {
        String s = prompt.endsWith("\n") ? prompt.substring(0, prompt.length() - 1) : prompt;
        if (!s.startsWith(PROMPT_START) || !s.endsWith("=?")) {
            return Optional.empty();
        }
        return Arithmetic.parseProblem(s.substring(PROMPT_START.length(), s.length() - 2));
    }

    /** The steps without their numbers, e.g. {@code 7+6=13, write 3 carry 1}. */
    static List<String> bodies(Problem p) {
        switch (p.op()) {
            case '+':
                return addition(p.left(), p.right());
            case '-':
                return p.left() >= p.right() ? subtraction(p.left(), p.right())
                        : subtraction(p.right(), p.left());
            default:
                return multiplication(p.left(), p.right());
        }
    }

    /** The numbered step lines. */
    static List<String> steps(Problem p) {
        List<String> bodies = bodies(p);
        List<String> out = new ArrayList<>(bodies.size());
        for (int i = 0; i < bodies.size(); i++) {
            out.add((i + 1) + ". " + bodies.get(i));
        }
        return out;
    }

    /** {@code A: 1692} */
    static String answerLine(Problem p) {
        return ANSWER_START + p.answer();
    }

    /** The problem with its worked answer. */
    static TaskExample example(Problem p) {
        List<String> steps = steps(p);
        String completion = String.join(Task.STEP_SEPARATOR, steps) + Task.STEP_SEPARATOR + answerLine(p);
        return new TaskExample(prompt(p), completion, Long.toString(p.answer()), steps);
    }

    private static int digits(long v) {
        return Long.toString(v).length();
    }

    private static int digitAt(long v, int i) {
        return (int) (v / Arithmetic.pow10(i) % 10);
    }

    private static List<String> addition(long a, long b) {
        int n = Math.max(digits(a), digits(b));
        List<String> out = new ArrayList<>(n);
        int carry = 0;
        for (int i = 0; i < n; i++) {
            int x = digitAt(a, i);
            int y = digitAt(b, i);
            int s = x + y + carry;
            StringBuilder step = new StringBuilder().append(x).append('+').append(y);
            if (carry > 0) {
                step.append('+').append(carry);
            }
            step.append('=').append(s).append(", write ");
            if (i == n - 1) {
                step.append(s);
            } else {
                step.append(s % 10);
                carry = s / 10;
                if (carry > 0) {
                    step.append(" carry ").append(carry);
                }
            }
            out.add(step.toString());
        }
        return out;
    }

    /** {@code a >= b} */
    private static List<String> subtraction(long a, long b) {
        int n = digits(a);
        List<String> out = new ArrayList<>(n);
        int borrow = 0;
        for (int i = 0; i < n; i++) {
            int x = digitAt(a, i);
            int y = digitAt(b, i);
            int next = x - y - borrow < 0 ? 1 : 0;
            int top = x + 10 * next;
            int s = top - y - borrow;
            StringBuilder step = new StringBuilder().append(top).append('-').append(y);
            if (borrow > 0) {
                step.append('-').append(borrow);
            }
            step.append('=').append(s).append(", write ").append(s);
            if (next > 0) {
                step.append(" borrow ").append(next);
            }
            out.add(step.toString());
            borrow = next;
        }
        return out;
    }

    private static List<String> multiplication(long a, long b) {
        List<String> out = new ArrayList<>();
        if (b == 0) {
            out.add(a + "*0=0");
            return out;
        }
        List<Long> partials = new ArrayList<>();
        int n = digits(b);
        for (int i = 0; i < n; i++) {
            int d = digitAt(b, i);
            if (d != 0) {
                long m = d * Arithmetic.pow10(i);
                long p = a * m;
                out.add(a + "*" + m + "=" + p);
                partials.add(p);
            }
        }
        long sum = partials.get(0);
        for (int i = 1; i < partials.size(); i++) {
            long next = sum + partials.get(i);
            out.add(sum + "+" + partials.get(i) + "=" + next);
            sum = next;
        }
        return out;
    }
}
