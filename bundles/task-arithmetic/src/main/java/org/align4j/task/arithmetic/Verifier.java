package org.align4j.task.arithmetic;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.align4j.api.loss.StepLabel;
import org.align4j.api.task.Verdict;
import org.align4j.task.arithmetic.Arithmetic.Problem;

/**
 * Checks a completion of a {@link WorkedAnswer} prompt, line by line. Never throws on any string.
 *
 * <p><b>Reading.</b> The completion is split on {@code '\n'} (one final empty piece, from a trailing newline, is
 * dropped). The first line that starts with {@code A:} is the answer line: {@code A:}, optional spaces, an integer
 * ({@code -} and ASCII digits), optional trailing whitespace; lines after it are ignored. Every line before it is a
 * step and gets one label; if there is no answer line, every line is a step.
 *
 * <p><b>Step labels.</b> A step line is {@code k. body} with {@code k} its 1-based line number (trailing whitespace
 * ignored). It is
 * <ul>
 * <li>{@link StepLabel#CORRECT} when {@code body} is a step of the problem's worked answer (see {@link WorkedAnswer};
 * the terms of a sum may come in any order, e.g. {@code 1410+282=1692}) that earlier lines have not yet written as
 * often as the worked answer has it (the two columns of {@code 55-11} are both {@code 5-1=4, write 4}); steps may come
 * in any order;</li>
 * <li>{@link StepLabel#NEUTRAL} when it is such a step but earlier lines already wrote it as often as the worked answer
 * has it: a repeat is true but adds nothing;</li>
 * <li>{@link StepLabel#INCORRECT} otherwise: not {@code k. body} with the right {@code k}, not an equation, false
 * arithmetic ({@code 4+3+1=9}), a true equation that is not a step of this problem ({@code 4+3=7} where the carry
 * makes it {@code 4+3+1=8}), or a wrong write/carry/borrow ({@code 7+6=13, write 3} without {@code carry 1}).</li>
 * </ul>
 *
 * <p><b>Answer.</b> {@link Verdict#correct()} is whether the answer line's integer equals the problem's answer
 * (leading zeros ignored), whatever the steps. {@link Verdict#reason()} is the first of: the first wrong or repeated
 * step, a missing or unreadable answer line, a wrong answer, steps of the worked answer that no line wrote; empty if
 * none.
 */
final class Verifier {

    /** Numbers longer than this are not read (they are never part of a worked answer). */
    private static final int MAX_NUMBER_DIGITS = 40;
    /** An equation with more terms than this is not read. */
    private static final int MAX_TERMS = 8;
    /** Lines are quoted in reasons up to this many characters. */
    private static final int QUOTE = 48;

    private Verifier() {
    }

    static Verdict verify(String prompt, String completion) {
        List<String> lines = lines(completion);
        int answerAt = -1;
        for (int i = 0; i < lines.size() && answerAt < 0; i++) {
            if (lines.get(i).startsWith("A:")) {
                answerAt = i;
            }
        }
        int stepCount = answerAt < 0 ? lines.size() : answerAt;
        int[] labels = new int[stepCount];
        String answer = answerAt < 0 ? "" : readAnswer(lines.get(answerAt));

        Optional<Problem> parsed = WorkedAnswer.parsePrompt(prompt);
        if (parsed.isEmpty()) {
            Arrays.fill(labels, StepLabel.INCORRECT);
            return new Verdict(false, labels, answer, "", "prompt " + quote(prompt)
                    + " is not a problem of the arithmetic task (expected e.g. \"Q: 47*36=?\\n\")");
        }
        Problem problem = parsed.get();
        String expected = Long.toString(problem.answer());
        List<String> solution = WorkedAnswer.bodies(problem);
        // one step may occur more than once (the columns of 55-11 are both 5-1=4, write 4)
        Map<String, List<Integer>> byKey = new HashMap<>();
        for (int i = 0; i < solution.size(); i++) {
            byKey.computeIfAbsent(key(solution.get(i)), k -> new ArrayList<>()).add(i);
        }
        boolean[] written = new boolean[solution.size()];
        String reason = "";
        for (int i = 0; i < stepCount; i++) {
            String line = lines.get(i);
            String problemWith = null;
            String body = body(line, i + 1);
            if (body == null) {
                problemWith = numbering(line, i + 1);
                labels[i] = StepLabel.INCORRECT;
            } else {
                List<Integer> same = byKey.get(key(body));
                int at = -1;
                for (int k = 0; same != null && k < same.size() && at < 0; k++) {
                    at = written[same.get(k)] ? -1 : same.get(k);
                }
                if (at >= 0) {
                    labels[i] = StepLabel.CORRECT;
                    written[at] = true;
                } else if (same != null) {
                    labels[i] = StepLabel.NEUTRAL;
                    problemWith = "repeats step " + (same.get(0) + 1) + " of the worked answer";
                } else {
                    labels[i] = StepLabel.INCORRECT;
                    problemWith = whyNot(body, solution, written);
                }
            }
            if (problemWith != null && reason.isEmpty()) {
                reason = "line " + (i + 1) + ": " + quote(line) + ": " + problemWith;
            }
        }

        boolean correct = !answer.isEmpty() && normalize(answer).equals(expected);
        if (reason.isEmpty()) {
            if (answerAt < 0) {
                reason = "no answer line (\"A: <integer>\") after " + lines.size() + " line"
                        + (lines.size() == 1 ? "" : "s");
            } else if (answer.isEmpty()) {
                reason = "line " + (answerAt + 1) + ": " + quote(lines.get(answerAt))
                        + ": expected an answer line \"A: <integer>\"";
            } else if (!correct) {
                reason = "line " + (answerAt + 1) + ": answer " + abbreviate(answer) + ", expected " + expected;
            } else {
                int missing = 0;
                int first = -1;
                for (int i = 0; i < written.length; i++) {
                    if (!written[i]) {
                        missing++;
                        first = first < 0 ? i : first;
                    }
                }
                if (missing > 0) {
                    reason = missing + " of " + written.length + " steps of the worked answer not written, the first "
                            + quote(solution.get(first));
                }
            }
        }
        return new Verdict(correct, labels, answer, expected, reason);
    }

    /** The lines of a completion; a trailing newline does not start another line. */
    static List<String> lines(String completion) {
        List<String> out = new ArrayList<>();
        if (completion.isEmpty()) {
            return out;
        }
        int start = 0;
        while (start <= completion.length()) {
            int nl = completion.indexOf('\n', start);
            if (nl < 0) {
                if (start < completion.length()) {
                    out.add(completion.substring(start));
                }
                break;
            }
            out.add(completion.substring(start, nl));
            start = nl + 1;
        }
        return out;
    }

    /** The integer of an answer line, as written; empty if the line is not {@code A: <integer>}. */
    private static String readAnswer(String line) {
        int i = 2;
        while (i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        int end = line.length();
        while (end > i && Character.isWhitespace(line.charAt(end - 1))) {
            end--;
        }
        String s = line.substring(i, end);
        int digitsFrom = s.startsWith("-") ? 1 : 0;
        if (s.length() == digitsFrom) {
            return "";
        }
        for (int k = digitsFrom; k < s.length(); k++) {
            if (!isDigit(s.charAt(k))) {
                return "";
            }
        }
        return s;
    }

    /** An integer without leading zeros ({@code -0} is {@code 0}). */
    private static String normalize(String integer) {
        boolean negative = integer.startsWith("-");
        int i = negative ? 1 : 0;
        while (i < integer.length() - 1 && integer.charAt(i) == '0') {
            i++;
        }
        String digits = integer.substring(i);
        return negative && !digits.equals("0") ? "-" + digits : digits;
    }

    /** The body of {@code k. body}; null if the line is not that. */
    private static String body(String line, int k) {
        String head = k + ". ";
        return line.startsWith(head) ? line.substring(head.length()).stripTrailing() : null;
    }

    private static String numbering(String line, int k) {
        int i = 0;
        while (i < line.length() && i < 6 && isDigit(line.charAt(i))) {
            i++;
        }
        if (i > 0 && line.startsWith(". ", i)) {
            return "numbered " + line.substring(0, i) + ", expected " + k;
        }
        return "not a step \"" + k + ". ...\" or an answer line \"A: <integer>\"";
    }

    /**
     * The form in which steps are compared: the body with the terms of an all-{@code +} equation sorted. Unreadable
     * bodies are their own key.
     */
    static String key(String body) {
        Equation e = Equation.parse(body);
        if (e == null || e.ops.indexOf('-') >= 0 || e.ops.indexOf('*') >= 0 || e.terms.size() < 2) {
            return body;
        }
        List<String> terms = new ArrayList<>(e.terms);
        terms.sort((x, y) -> x.length() != y.length() ? Integer.compare(x.length(), y.length()) : x.compareTo(y));
        return String.join("+", terms) + "=" + e.result + e.rest;
    }

    /** Why a step that is not in the worked answer is wrong. */
    private static String whyNot(String body, List<String> solution, boolean[] written) {
        Equation e = Equation.parse(body);
        if (e == null) {
            return "not an equation like " + quote(solution.get(0));
        }
        BigInteger value = e.value();
        if (!value.equals(new BigInteger(e.result))) {
            return e.expression() + " is " + value + ", not " + e.result;
        }
        for (String s : solution) {
            Equation c = Equation.parse(s);
            if (c != null && key(c.expression() + "=0").equals(key(e.expression() + "=0"))) {
                return "expected " + quote(s);
            }
        }
        for (int i = 0; i < written.length; i++) {
            if (!written[i]) {
                return "true, but not a step of this problem (next: " + quote(solution.get(i)) + ")";
            }
        }
        return "true, but not a step of this problem (all its steps are written)";
    }

    private static String quote(String s) {
        String shown = s.length() <= QUOTE ? s : s.substring(0, QUOTE) + "...";
        return "\"" + shown.replace("\n", "\\n") + "\"";
    }

    private static String abbreviate(String s) {
        return s.length() <= QUOTE ? s : s.substring(0, QUOTE) + "...";
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * {@code t1 op t2 op ... = result rest}: terms are ASCII digits, ops {@code + - *}, result an optional {@code -}
     * and digits, rest whatever follows (e.g. {@code , write 3 carry 1}) when it starts with {@code ,}.
     */
    static final class Equation {
        final List<String> terms;
        final String ops;
        final String result;
        final String rest;

        private Equation(List<String> terms, String ops, String result, String rest) {
            this.terms = terms;
            this.ops = ops;
            this.result = result;
            this.rest = rest;
        }

        /** Null if {@code body} is not an equation. */
        static Equation parse(String body) {
            List<String> terms = new ArrayList<>();
            StringBuilder ops = new StringBuilder();
            int i = 0;
            while (true) {
                int start = i;
                while (i < body.length() && isDigit(body.charAt(i))) {
                    i++;
                }
                if (i == start || i - start > MAX_NUMBER_DIGITS || terms.size() == MAX_TERMS) {
                    return null;
                }
                terms.add(body.substring(start, i));
                if (i == body.length()) {
                    return null;
                }
                char c = body.charAt(i);
                if (c == '=') {
                    break;
                }
                if (c != '+' && c != '-' && c != '*') {
                    return null;
                }
                ops.append(c);
                i++;
            }
            i++; // '='
            int start = i;
            if (i < body.length() && body.charAt(i) == '-') {
                i++;
            }
            int digitsFrom = i;
            while (i < body.length() && isDigit(body.charAt(i))) {
                i++;
            }
            if (i == digitsFrom || i - digitsFrom > MAX_NUMBER_DIGITS) {
                return null;
            }
            String rest = body.substring(i);
            if (!rest.isEmpty() && !rest.startsWith(",")) {
                return null;
            }
            return new Equation(List.copyOf(terms), ops.toString(), body.substring(start, i), rest);
        }

        /** The left side, as written. */
        String expression() {
            StringBuilder b = new StringBuilder(terms.get(0));
            for (int i = 0; i < ops.length(); i++) {
                b.append(ops.charAt(i)).append(terms.get(i + 1));
            }
            return b.toString();
        }

        /** The value of the left side, {@code *} before {@code +} and {@code -}. */
        BigInteger value() {
            BigInteger sum = BigInteger.ZERO;
            BigInteger product = new BigInteger(terms.get(0));
            int sign = 1;
            for (int i = 0; i < ops.length(); i++) {
                BigInteger t = new BigInteger(terms.get(i + 1));
                char op = ops.charAt(i);
                if (op == '*') {
                    product = product.multiply(t);
                } else {
                    sum = sign > 0 ? sum.add(product) : sum.subtract(product);
                    sign = op == '+' ? 1 : -1;
                    product = t;
                }
            }
            return sign > 0 ? sum.add(product) : sum.subtract(product);
        }
    }
}
