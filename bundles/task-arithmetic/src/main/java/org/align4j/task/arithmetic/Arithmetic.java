package org.align4j.task.arithmetic;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/**
 * The arithmetic of the task, shared by the corpus generator, the task and its verifier: problems of two non-negative
 * whole operands and one of {@code + - *}, written without spaces as {@code 37+45=82}. Results of {@code -} may be
 * negative ({@code 12-45=-33}). All arithmetic is exact: operands are at most {@link Integer#MAX_VALUE}, so every
 * result fits in a {@code long}.
 */
final class Arithmetic {

    /** The operators, in the order settings list them. */
    static final String OPERATORS = "+-*";

    private Arithmetic() {
    }

    /** One problem. */
    record Problem(long left, char op, long right) {
        Problem {
            if (OPERATORS.indexOf(op) < 0) {
                throw new IllegalArgumentException("operator '" + op + "' is not one of " + OPERATORS);
            }
            if (left < 0 || right < 0 || left > Integer.MAX_VALUE || right > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("operands must be in [0, " + Integer.MAX_VALUE + "], got "
                        + left + " and " + right);
            }
        }

        /** The exact result. */
        long answer() {
            switch (op) {
                case '+':
                    return left + right;
                case '-':
                    return left - right;
                default:
                    return left * right;
            }
        }

        /** {@code 37+45=}: what a model is asked. */
        String prompt() {
            return Long.toString(left) + op + right + "=";
        }

        /** {@code 37+45=82}: one line of the corpus. */
        String document() {
            return prompt() + answer();
        }
    }

    /** A problem with the result some text claims for it. */
    record Equation(Problem problem, long claimed) {
        boolean correct() {
            return claimed == problem.answer();
        }
    }

    /** A random problem: operator uniform over {@code ops}, operands uniform in {@code [0, maxOperand]}. */
    static Problem random(SplittableRandom rnd, int maxOperand, String ops) {
        char op = ops.charAt(rnd.nextInt(ops.length()));
        long left = rnd.nextLong(maxOperand + 1L);
        long right = rnd.nextLong(maxOperand + 1L);
        return new Problem(left, op, right);
    }

    /** The largest number of digits an operand may have: every 9-digit number fits {@link Problem}. */
    static final int MAX_DIGITS = 9;

    /**
     * A random problem by digit counts: operator uniform over {@code ops}; each operand first draws its number of
     * digits uniformly from {@code [1, digits]} ({@code [1, multiplierDigits]} for the right operand of {@code *}),
     * then its value uniformly among the numbers of that many digits ({@code 0..9} for one digit). For {@code -} the
     * operands are swapped when the left one is smaller, so results are never negative.
     */
    static Problem randomByDigits(SplittableRandom rnd, int digits, int multiplierDigits, String ops) {
        char op = ops.charAt(rnd.nextInt(ops.length()));
        long left = withDigits(rnd, digits);
        long right = withDigits(rnd, op == '*' ? multiplierDigits : digits);
        if (op == '-' && left < right) {
            long t = left;
            left = right;
            right = t;
        }
        return new Problem(left, op, right);
    }

    private static long withDigits(SplittableRandom rnd, int maxDigits) {
        int n = 1 + rnd.nextInt(maxDigits);
        if (n == 1) {
            return rnd.nextLong(10);
        }
        long low = pow10(n - 1);
        return low + rnd.nextLong(9 * low);
    }

    /** {@code 10^n} for {@code n} in {@code [0, 18]}. */
    static long pow10(int n) {
        long v = 1;
        for (int i = 0; i < n; i++) {
            v *= 10;
        }
        return v;
    }

    /** Parses a whole line {@code a<op>b=c} (c may be negative); empty if the line is not exactly that. */
    static Optional<Equation> parseEquation(String line) {
        int eq = line.indexOf('=');
        if (eq < 0) {
            return Optional.empty();
        }
        Optional<Problem> p = parseProblem(line.substring(0, eq));
        OptionalLong claimed = parseSigned(line.substring(eq + 1));
        if (p.isEmpty() || claimed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Equation(p.get(), claimed.getAsLong()));
    }

    /** Parses a prompt {@code a<op>b=} (the {@code =} may be left out); empty if it is not exactly that. */
    static Optional<Problem> parsePrompt(String prompt) {
        String s = prompt.endsWith("=") ? prompt.substring(0, prompt.length() - 1) : prompt;
        return parseProblem(s);
    }

    /**
     * The number a completion starts with ({@code "82"}, {@code "-33 because..."}): an optional {@code -} and
     * digits, then the end or any non-digit; empty if it starts otherwise or the number does not fit a long.
     */
    static OptionalLong parseAnswer(String completion) {
        int i = completion.startsWith("-") ? 1 : 0;
        int end = i;
        while (end < completion.length() && isDigit(completion.charAt(end))) {
            end++;
        }
        return end == i ? OptionalLong.empty() : parseSigned(completion.substring(0, end));
    }

    /** Parses {@code a<op>b} exactly: ASCII digits, no sign or spaces, operands at most {@link Integer#MAX_VALUE}. */
    static Optional<Problem> parseProblem(String s) {
        int i = 0;
        while (i < s.length() && isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0 || i == s.length() || OPERATORS.indexOf(s.charAt(i)) < 0) {
            return Optional.empty();
        }
        OptionalLong left = parseDigits(s.substring(0, i));
        OptionalLong right = parseDigits(s.substring(i + 1));
        if (left.isEmpty() || right.isEmpty() || left.getAsLong() > Integer.MAX_VALUE
                || right.getAsLong() > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        return Optional.of(new Problem(left.getAsLong(), s.charAt(i), right.getAsLong()));
    }

    private static OptionalLong parseSigned(String s) {
        return s.startsWith("-") ? negate(parseDigits(s.substring(1))) : parseDigits(s);
    }

    private static OptionalLong negate(OptionalLong v) {
        return v.isPresent() ? OptionalLong.of(-v.getAsLong()) : v;
    }

    /** ASCII digits only (no sign, no spaces); empty if anything else or too long for a long. */
    private static OptionalLong parseDigits(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return OptionalLong.empty();
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                return OptionalLong.empty();
            }
            v = v * 10 + (c - '0');
        }
        return OptionalLong.of(v);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
