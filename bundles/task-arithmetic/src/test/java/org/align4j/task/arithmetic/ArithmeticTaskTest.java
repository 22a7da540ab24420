package org.align4j.task.arithmetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.task.Task;
import org.align4j.api.task.TaskExample;
import org.junit.jupiter.api.Test;

class ArithmeticTaskTest {

    private static final Pattern PROMPT = Pattern.compile("Q: (\\d+)([-+*])(\\d+)=\\?\n");

    private final Task task = new ArithmeticTask();

    static Settings settings(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Settings.of("task.yaml", m);
    }

    @Test
    void sameSeedSameExamples() {
        List<TaskExample> a = task.generate(settings("count", 300, "difficulty", "hard"), 7);
        assertEquals(a, task.generate(settings("count", 300, "difficulty", "hard"), 7));
        assertNotEquals(a, task.generate(settings("count", 300, "difficulty", "hard"), 8));
        assertEquals(a, task.generate(settings("count", 600, "difficulty", "hard"), 7).subList(0, 300));
        assertEquals(10_000, task.generate(settings(), 1).size());
    }

    @Test
    void theCorpusGeneratorDrawsTheSameProblems() {
        ArithmeticCorpusGenerator corpus = new ArithmeticCorpusGenerator();
        List<TaskExample> examples = task.generate(settings("count", 200, "digits", 4), 3);
        List<String> docs = corpus.generate(settings("count", 200, "digits", 4, "format", "text"), 3);
        List<String> equations = corpus.generate(settings("count", 200, "digits", 4), 3);
        for (int i = 0; i < examples.size(); i++) {
            TaskExample e = examples.get(i);
            assertEquals(e.prompt() + e.completion(), docs.get(i));
            Matcher m = PROMPT.matcher(e.prompt());
            assertTrue(m.matches(), e.prompt());
            assertEquals(m.group(1) + m.group(2) + m.group(3) + "=" + e.answer(), equations.get(i));
        }
    }

    @Test
    void difficultiesShapeTheProblems() {
        checkRange(settings("count", 3000, "difficulty", "easy"), 99, 99, "+-");
        checkRange(settings("count", 3000, "difficulty", "medium"), 99, 9, "+-*");
        checkRange(settings("count", 3000, "difficulty", "hard"), 999, 99, "+-*");
        checkRange(settings("count", 3000, "difficulty", "hard", "ops", "*", "multiplier_digits", 3), 999, 999, "*");
        checkRange(settings("count", 3000, "digits", 9), 999_999_999, 999_999_999, "+-*");
        checkRange(settings("count", 3000, "digits", 1, "ops", "-"), 9, 9, "-");
    }

    /** Operands reach but never pass their maxima, every operator is used, answers are right and never negative. */
    private void checkRange(Settings s, long maxOperand, long maxMultiplier, String ops) {
        long maxSeen = 0;
        long maxMultiplierSeen = 0;
        Set<String> opsSeen = new HashSet<>();
        Set<Integer> lengths = new HashSet<>();
        for (TaskExample e : task.generate(s, 5)) {
            Matcher m = PROMPT.matcher(e.prompt());
            assertTrue(m.matches(), e.prompt());
            long a = Long.parseLong(m.group(1));
            long b = Long.parseLong(m.group(3));
            String op = m.group(2);
            opsSeen.add(op);
            long answer = op.equals("+") ? a + b : op.equals("-") ? a - b : a * b;
            assertEquals(Long.toString(answer), e.answer(), e.toString());
            assertTrue(answer >= 0, e.toString());
            maxSeen = Math.max(maxSeen, a);
            lengths.add(m.group(1).length());
            if (op.equals("*")) {
                maxMultiplierSeen = Math.max(maxMultiplierSeen, b);
                assertTrue(b <= maxMultiplier, e.toString());
            } else {
                maxSeen = Math.max(maxSeen, b);
            }
            assertTrue(a <= maxOperand && b <= maxOperand, e.toString());
        }
        assertEquals(ops.length(), opsSeen.size(), opsSeen.toString());
        assertEquals(Long.toString(maxOperand).length(), lengths.size(), "every operand length occurs: " + lengths);
        assertTrue(maxSeen > maxOperand * 9 / 10, "operands reach near " + maxOperand + ": " + maxSeen);
        if (ops.contains("*")) {
            assertTrue(maxMultiplierSeen > maxMultiplier * 8 / 10, "multipliers reach near " + maxMultiplier);
        }
    }

    /** Easy and medium problems fit a context of 128 tokens with room to spare: at most 80 characters. */
    @Test
    void easyAndMediumFitASmallContext() {
        for (String d : new String[] {"easy", "medium"}) {
            for (TaskExample e : task.generate(settings("count", 5000, "difficulty", d), 9)) {
                assertTrue((e.prompt() + e.completion()).length() <= 80, e.toString());
            }
        }
    }

    @Test
    void distinctProblemsDoNotRepeat() {
        List<TaskExample> all = task.generate(settings("count", 4000, "difficulty", "easy"), 6);
        Set<String> prompts = new HashSet<>();
        for (TaskExample e : all) {
            prompts.add(e.prompt());
        }
        assertTrue(prompts.size() < all.size(), "without distinct, small problems repeat");

        List<TaskExample> distinct = task.generate(settings("count", 4000, "difficulty", "easy", "distinct", true), 6);
        Set<String> distinctPrompts = new HashSet<>();
        for (TaskExample e : distinct) {
            assertTrue(distinctPrompts.add(e.prompt()), e.prompt());
        }
        assertEquals(distinct.subList(0, 1000),
                task.generate(settings("count", 1000, "difficulty", "easy", "distinct", true), 6));
        // one-digit additions: 100 problems exist
        assertEquals(100, task.generate(settings("count", 100, "digits", 1, "ops", "+", "distinct", true), 1).size());
        assertEquals("task.yaml: count: 101 distinct problems asked for, but these settings gave only 100 in 3020 "
                + "draws; lower count, allow more digits or operators, or set distinct: false",
                assertThrows(SettingsException.class, () -> task.generate(settings("count", 101, "digits", 1, "ops", "+",
                        "distinct", true), 1)).getMessage());
    }

    @Test
    void badSettingsAreRejected() {
        assertEquals("task.yaml: difficulty: expected easy, medium or hard, got \"extreme\"",
                error(settings("difficulty", "extreme")));
        assertEquals("task.yaml: digits: expected a whole number of digits from 1 to 9, got 10",
                error(settings("digits", 10)));
        assertEquals("task.yaml: digits: expected a whole number of digits from 1 to 9, got 0",
                error(settings("difficulty", "easy", "digits", 0)));
        assertEquals("task.yaml: multiplier_digits: expected a whole number of digits from 1 to 9, got 12",
                error(settings("digits", 2, "multiplier_digits", 12)));
        assertEquals("task.yaml: multiplier_digits: applies only with digits or difficulty; add digits: N",
                error(settings("multiplier_digits", 2)));
        assertEquals("task.yaml: max_operand: cannot be combined with digits (operands are either uniform up to "
                + "max_operand or drawn by digits); remove one of them", error(settings("max_operand", 20, "digits", 2)));
        assertEquals("task.yaml: max_operand: cannot be combined with difficulty (operands are either uniform up to "
                + "max_operand or drawn by digits); remove one of them",
                error(settings("max_operand", 20, "difficulty", "easy")));
        assertEquals("task.yaml: ops: '/' is not an operator; use characters from \"+-*\", got \"+/\"",
                error(settings("difficulty", "hard", "ops", "+/")));
        assertEquals("task.yaml: digits: expected a number, got \"two\"", error(settings("digits", "two")));
        assertEquals("task.yaml: distinct: expected true or false, got \"maybe\"", error(settings("distinct", "maybe")));
        // format belongs to the corpus generator, not the task
        assertEquals("task.yaml: format: unknown setting (accepted here: count, max_operand, ops, difficulty, digits, "
                + "multiplier_digits, distinct)", error(settings("format", "text")));
    }

    private String error(Settings s) {
        String message = assertThrows(SettingsException.class, () -> task.generate(s, 1)).getMessage();
        assertEquals(message, assertThrows(SettingsException.class, () -> task.validate(s)).getMessage());
        return message;
    }
}
