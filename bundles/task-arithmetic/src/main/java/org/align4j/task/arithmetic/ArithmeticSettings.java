package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.pipeline.Settings;
import org.align4j.task.arithmetic.Arithmetic.Problem;

/**
 * The settings of the arithmetic task and corpus, checked as they are read.
 *
 * <ul>
 * <li>{@code count}: how many problems, default 10000, at least 1.</li>
 * <li>{@code ops}: the operators, distinct characters of {@code +-*}; each problem picks one uniformly. Default
 * {@code +-*}, or the difficulty's.</li>
 * <li>Operands, one of two ways:
 * <ul>
 * <li>{@code max_operand} (default 99 when nothing below is given): both operands uniform in {@code [0, max_operand]};
 * {@code a-b} with {@code a < b} has a negative result. This is the original corpus, unchanged.</li>
 * <li>{@code digits} (1 to 9): each operand draws its number of digits uniformly from {@code [1, digits]}, then its
 * value uniformly among numbers of that many digits; {@code multiplier_digits} (1 to 9, default {@code digits}) does
 * the same for the right operand of {@code *} (one partial product per digit). Subtractions put the larger operand
 * first: results are never negative.</li>
 * </ul>
 * </li>
 * <li>{@code difficulty}: a preset of the keys above, each of which may still be given to override it:
 * <table>
 * <caption>difficulty presets</caption>
 * <tr><th>difficulty</th><th>digits</th><th>multiplier_digits</th><th>ops</th></tr>
 * <tr><td>easy</td><td>2</td><td>1</td><td>+-</td></tr>
 * <tr><td>medium</td><td>2</td><td>1</td><td>+-*</td></tr>
 * <tr><td>hard</td><td>3</td><td>2</td><td>+-*</td></tr>
 * </table>
 * </li>
 * <li>{@code distinct} (default false): when true, no problem occurs twice, so a train/validation split of the list
 * never tests on a trained problem; duplicates are skipped as they are drawn (which thins out the small problems
 * that the digit-count sampling favours). Fails naming {@code count} when the settings allow too few problems.</li>
 * <li>{@code format} (corpus generator only): {@code equation} (default: {@code 37+45=82}, one line per document, the
 * original corpus), {@code text} (prompt and worked completion as one document), {@code prompt-completion}
 * (records {@code {"prompt", "completion"}}). See {@link ArithmeticCorpusGenerator}.</li>
 * </ul>
 */
final class ArithmeticSettings {

    static final String COUNT = "count";
    static final String MAX_OPERAND = "max_operand";
    static final String OPS = "ops";
    static final String DIFFICULTY = "difficulty";
    static final String DIGITS = "digits";
    static final String MULTIPLIER_DIGITS = "multiplier_digits";
    static final String FORMAT = "format";
    static final String DISTINCT = "distinct";

    /** The values of {@code format}. */
    enum Format {
        EQUATION("equation"), TEXT("text"), PROMPT_COMPLETION("prompt-completion");

        final String key;

        Format(String key) {
            this.key = key;
        }
    }

    /** A preset of {@code digits}, {@code multiplier_digits} and {@code ops}. */
    enum Difficulty {
        EASY(2, 1, "+-"), MEDIUM(2, 1, "+-*"), HARD(3, 2, "+-*");

        final int digits;
        final int multiplierDigits;
        final String ops;

        Difficulty(int digits, int multiplierDigits, String ops) {
            this.digits = digits;
            this.multiplierDigits = multiplierDigits;
            this.ops = ops;
        }

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    final int count;
    final String ops;
    /** The operand range of the original sampling; 0 when operands are drawn by digits. */
    final int maxOperand;
    /** Digits per operand; 0 when operands are uniform up to {@link #maxOperand}. */
    final int digits;
    final int multiplierDigits;
    final Format format;
    final boolean distinct;
    private final Settings settings;

    /**
     * @param withFormat whether {@code format} is accepted (the corpus generator) or unknown (the task)
     */
    ArithmeticSettings(Settings settings, boolean withFormat) {
        if (withFormat) {
            settings.checkKnown(COUNT, MAX_OPERAND, OPS, DIFFICULTY, DIGITS, MULTIPLIER_DIGITS, DISTINCT, FORMAT);
        } else {
            settings.checkKnown(COUNT, MAX_OPERAND, OPS, DIFFICULTY, DIGITS, MULTIPLIER_DIGITS, DISTINCT);
        }
        this.settings = settings;
        count = settings.getInt(COUNT, 10_000);
        if (count < 1) {
            throw settings.error(COUNT, "expected a whole number of at least 1, got " + count);
        }
        Difficulty difficulty = null;
        if (settings.has(DIFFICULTY)) {
            String d = settings.getString(DIFFICULTY);
            for (Difficulty x : Difficulty.values()) {
                if (x.key().equals(d)) {
                    difficulty = x;
                }
            }
            if (difficulty == null) {
                throw settings.error(DIFFICULTY, "expected easy, medium or hard, got \"" + d + "\"");
            }
        }
        boolean byDigits = difficulty != null || settings.has(DIGITS);
        if (settings.has(MAX_OPERAND) && byDigits) {
            throw settings.error(MAX_OPERAND, "cannot be combined with "
                    + (settings.has(DIGITS) ? DIGITS : DIFFICULTY)
                    + " (operands are either uniform up to max_operand or drawn by digits); remove one of them");
        }
        if (settings.has(MULTIPLIER_DIGITS) && !byDigits) {
            throw settings.error(MULTIPLIER_DIGITS, "applies only with digits or difficulty; add digits: N");
        }
        if (byDigits) {
            maxOperand = 0;
            digits = digitsSetting(settings, DIGITS, difficulty != null ? difficulty.digits : 0);
            multiplierDigits = digitsSetting(settings, MULTIPLIER_DIGITS,
                    difficulty != null ? difficulty.multiplierDigits : digits);
        } else {
            digits = 0;
            multiplierDigits = 0;
            maxOperand = settings.getInt(MAX_OPERAND, 99);
            if (maxOperand < 1) {
                throw settings.error(MAX_OPERAND, "expected a whole number of at least 1, got " + maxOperand);
            }
        }
        ops = settings.getString(OPS, difficulty != null ? difficulty.ops : Arithmetic.OPERATORS);
        if (ops.isEmpty()) {
            throw settings.error(OPS, "expected one or more of the operators " + Arithmetic.OPERATORS + ", got \"\"");
        }
        for (int i = 0; i < ops.length(); i++) {
            char c = ops.charAt(i);
            if (Arithmetic.OPERATORS.indexOf(c) < 0) {
                throw settings.error(OPS, "'" + c + "' is not an operator; use characters from \""
                        + Arithmetic.OPERATORS + "\", got \"" + ops + "\"");
            }
            if (ops.indexOf(c) != i) {
                throw settings.error(OPS, "'" + c + "' is listed twice in \"" + ops + "\"; list each operator once");
            }
        }
        Format f = Format.EQUATION;
        if (withFormat && settings.has(FORMAT)) {
            String s = settings.getString(FORMAT);
            f = null;
            for (Format x : Format.values()) {
                if (x.key.equals(s)) {
                    f = x;
                }
            }
            if (f == null) {
                throw settings.error(FORMAT, "expected equation, text or prompt-completion, got \"" + s + "\"");
            }
        }
        format = f;
        distinct = settings.getBoolean(DISTINCT, false);
    }

    private static int digitsSetting(Settings settings, String key, int def) {
        int v = settings.getInt(key, def);
        if (v < 1 || v > Arithmetic.MAX_DIGITS) {
            throw settings.error(key, "expected a whole number of digits from 1 to " + Arithmetic.MAX_DIGITS + ", got "
                    + v);
        }
        return v;
    }

    /** The next problem; the draws of the original sampling are unchanged. */
    private Problem draw(SplittableRandom rnd) {
        return digits > 0 ? Arithmetic.randomByDigits(rnd, digits, multiplierDigits, ops)
                : Arithmetic.random(rnd, maxOperand, ops);
    }

    /**
     * The {@code count} problems of {@code seed}, drawn one after the other (so a longer list starts with a shorter
     * one), duplicates skipped if {@code distinct}.
     */
    List<Problem> problems(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Problem> out = new ArrayList<>(count);
        if (!distinct) {
            for (int i = 0; i < count; i++) {
                out.add(draw(rnd));
            }
            return out;
        }
        Set<Problem> seen = new HashSet<>();
        long budget = 20L * count + 1000;
        for (long draws = 0; out.size() < count; draws++) {
            if (draws == budget) {
                throw settings.error(COUNT, count + " distinct problems asked for, but these settings gave only "
                        + out.size() + " in " + draws + " draws; lower count, allow more digits or operators, or "
                        + "set distinct: false");
            }
            Problem p = draw(rnd);
            if (seen.add(p)) {
                out.add(p);
            }
        }
        return out;
    }
}
