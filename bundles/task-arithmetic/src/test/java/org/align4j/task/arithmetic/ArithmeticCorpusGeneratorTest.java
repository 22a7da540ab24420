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
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class ArithmeticCorpusGeneratorTest {

    private static final Pattern LINE = Pattern.compile("(\\d+)([-+*])(\\d+)=(-?\\d+)");

    private final ArithmeticCorpusGenerator generator = new ArithmeticCorpusGenerator();

    static Settings settings(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Settings.of("task.yaml", m);
    }

    @Test
    void sameSeedSameCorpus() {
        List<String> a = generator.generate(settings("count", 500), 7);
        assertEquals(a, generator.generate(settings("count", 500), 7));
        assertNotEquals(a, generator.generate(settings("count", 500), 8));
        // A longer corpus starts with the shorter one.
        assertEquals(a, generator.generate(settings("count", 1000), 7).subList(0, 500));
        assertEquals(10_000, generator.generate(settings(), 1).size());
    }

    @Test
    void everyLineIsCorrectArithmetic() {
        List<String> lines = generator.generate(settings("count", 5000), 3);
        Set<Character> ops = new HashSet<>();
        boolean negative = false;
        long maxSeen = 0;
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            long a = Long.parseLong(m.group(1));
            long b = Long.parseLong(m.group(3));
            long c = Long.parseLong(m.group(4));
            char op = m.group(2).charAt(0);
            long expected = op == '+' ? a + b : op == '-' ? a - b : a * b;
            assertEquals(expected, c, line);
            assertTrue(a >= 0 && a <= 99 && b >= 0 && b <= 99, line);
            assertEquals(line, a + m.group(2) + b + "=" + c); // no leading zeros, no spaces
            ops.add(op);
            negative |= c < 0;
            maxSeen = Math.max(maxSeen, Math.max(a, b));
        }
        assertEquals(Set.of('+', '-', '*'), ops);
        assertTrue(negative, "some differences should be negative");
        assertEquals(99, maxSeen);
    }

    @Test
    void settingsShapeTheCorpus() {
        List<String> lines = generator.generate(settings("count", 300, "max_operand", 1_000_000, "ops", "*"), 4);
        assertEquals(300, lines.size());
        long big = 0;
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            assertEquals("*", m.group(2));
            long a = Long.parseLong(m.group(1));
            long b = Long.parseLong(m.group(3));
            assertEquals(a * b, Long.parseLong(m.group(4)), line);
            big = Math.max(big, Math.max(a, b));
        }
        assertTrue(big > 100_000, "operands should reach the larger range, max " + big);
        // Extreme operands stay exact.
        for (String line : generator.generate(settings("count", 50, "max_operand", Integer.MAX_VALUE), 5)) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            java.math.BigInteger a = new java.math.BigInteger(m.group(1));
            java.math.BigInteger b = new java.math.BigInteger(m.group(3));
            java.math.BigInteger r = m.group(2).equals("+") ? a.add(b) : m.group(2).equals("-") ? a.subtract(b)
                    : a.multiply(b);
            assertEquals(r, new java.math.BigInteger(m.group(4)), line);
        }
        // max_operand 1 uses only 0 and 1.
        for (String line : generator.generate(settings("count", 100, "max_operand", 1, "ops", "+-"), 6)) {
            assertTrue(line.matches("[01][-+][01]=-?[012]"), line);
        }
    }

    @Test
    void badSettingsAreRejected() {
        assertEquals("task.yaml: count: expected a whole number of at least 1, got 0", error(settings("count", 0)));
        assertEquals("task.yaml: max_operand: expected a whole number of at least 1, got 0",
                error(settings("max_operand", 0)));
        assertEquals("task.yaml: ops: '/' is not an operator; use characters from \"+-*\", got \"+/\"",
                error(settings("ops", "+/")));
        assertEquals("task.yaml: ops: expected one or more of the operators +-*, got \"\"", error(settings("ops", "")));
        assertEquals("task.yaml: ops: '+' is listed twice in \"+*+\"; list each operator once",
                error(settings("ops", "+*+")));
        assertEquals("task.yaml: cnt: unknown setting (accepted here: count, max_operand, ops, difficulty, digits, "
                + "multiplier_digits, distinct, format)",
                error(settings("cnt", 5)));
        assertEquals("task.yaml: count: expected a number, got \"many\"", error(settings("count", "many")));
    }

    /**
     * Settings of align4j's first version give the corpus they gave then: the draws (operator index, left operand,
     * right operand) and the text are written out here, independently of {@link Arithmetic}.
     */
    @Test
    void theOriginalCorpusIsUnchanged() {
        Object[][] cases = {{20000, 20, "+-*"}, {500, 99, "+-*"}, {300, 7, "-*"}, {300, 1_000_000, "*+"}};
        for (Object[] c : cases) {
            int count = (Integer) c[0];
            int max = (Integer) c[1];
            String ops = (String) c[2];
            Settings s = ops.equals("+-*") ? settings("count", count, "max_operand", max)
                    : settings("count", count, "max_operand", max, "ops", ops);
            SplittableRandom rnd = new SplittableRandom(7);
            List<String> expected = new java.util.ArrayList<>();
            List<Map<String, Object>> expectedRecords = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                char op = ops.charAt(rnd.nextInt(ops.length()));
                long a = rnd.nextLong(max + 1L);
                long b = rnd.nextLong(max + 1L);
                String doc = a + "" + op + b + "=" + (op == '+' ? a + b : op == '-' ? a - b : a * b);
                expected.add(doc);
                expectedRecords.add(Map.of("text", doc));
            }
            assertEquals(expected, generator.generate(s, 7));
            assertEquals(expectedRecords, generator.records(s, 7));
            Settings explicit = settings("count", count, "max_operand", max, "ops", ops, "format", "equation");
            assertEquals(expected, generator.generate(explicit, 7));
        }
    }

    @Test
    void workedFormats() {
        Settings text = settings("count", 400, "difficulty", "medium", "format", "text");
        Settings pc = settings("count", 400, "difficulty", "medium", "format", "prompt-completion");
        List<String> docs = generator.generate(text, 11);
        List<Map<String, Object>> textRecords = generator.records(text, 11);
        List<Map<String, Object>> records = generator.records(pc, 11);
        assertEquals(docs, generator.generate(pc, 11));
        assertEquals(400, records.size());
        ArithmeticTask task = new ArithmeticTask();
        for (int i = 0; i < records.size(); i++) {
            Map<String, Object> r = records.get(i);
            assertEquals(List.of("prompt", "completion"), List.copyOf(r.keySet()));
            String prompt = (String) r.get("prompt");
            String completion = (String) r.get("completion");
            assertEquals(prompt + completion, docs.get(i));
            assertEquals(Map.of("text", docs.get(i)), textRecords.get(i));
            Matcher m = Pattern.compile("Q: (\\d+)([-+*])(\\d+)=\\?\n").matcher(prompt);
            assertTrue(m.matches(), prompt);
            long a = Long.parseLong(m.group(1));
            long b = Long.parseLong(m.group(3));
            long answer = m.group(2).equals("+") ? a + b : m.group(2).equals("-") ? a - b : a * b;
            assertTrue(completion.endsWith("\nA: " + answer), completion);
            assertTrue(completion.startsWith("1. "), completion);
            assertEquals("", task.verify(prompt, completion).reason());
        }
        // the original sampling in the worked format: negative differences too
        boolean negative = false;
        for (Map<String, Object> r : generator.records(settings("count", 300, "max_operand", 20, "format",
                "prompt-completion"), 2)) {
            String completion = (String) r.get("completion");
            negative |= completion.contains("\nA: -");
            assertEquals("", task.verify((String) r.get("prompt"), completion).reason(), completion);
        }
        assertTrue(negative);
    }

    @Test
    void badFormatsAreRejected() {
        assertEquals("task.yaml: format: expected equation, text or prompt-completion, got \"chat\"",
                error(settings("format", "chat")));
        assertEquals("task.yaml: digits: expected a whole number of digits from 1 to 9, got 10",
                error(settings("digits", 10, "format", "text")));
    }

    private String error(Settings s) {
        String message = assertThrows(SettingsException.class, () -> generator.generate(s, 1)).getMessage();
        // validate() (what a pipeline calls before anything runs) rejects the same settings the same way
        assertEquals(message, assertThrows(SettingsException.class, () -> generator.validate(s)).getMessage());
        return message;
    }
}
