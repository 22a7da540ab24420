package org.align4j.task.arithmetic;

import static org.align4j.api.loss.StepLabel.CORRECT;
import static org.align4j.api.loss.StepLabel.INCORRECT;
import static org.align4j.api.loss.StepLabel.NEUTRAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.align4j.api.task.TaskExample;
import org.align4j.api.task.Verdict;
import org.align4j.task.arithmetic.Arithmetic.Problem;
import org.junit.jupiter.api.Test;

/** The verifier on hand-made completions of {@code 47*36} and {@code 47+86}, and on random and mangled ones. */
class VerifierTest {

    private static final String MUL = "Q: 47*36=?\n";
    private static final String ADD = "Q: 47+86=?\n";

    private final ArithmeticTask task = new ArithmeticTask();

    @Test
    void aRightCompletion() {
        Verdict v = task.verify(MUL, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692");
        assertTrue(v.correct());
        assertArrayEquals(new int[] {CORRECT, CORRECT, CORRECT}, v.stepLabels());
        assertEquals("1692", v.answer());
        assertEquals("1692", v.expected());
        assertEquals("", v.reason());
    }

    @Test
    void oneWrongStep() {
        Verdict v = task.verify(MUL, "1. 47*6=282\n2. 47*30=1420\n3. 282+1420=1702\nA: 1702");
        assertFalse(v.correct());
        // 282+1420=1702 is true arithmetic but not a step of 47*36
        assertArrayEquals(new int[] {CORRECT, INCORRECT, INCORRECT}, v.stepLabels());
        assertEquals("1702", v.answer());
        assertEquals("1692", v.expected());
        assertEquals("line 2: \"2. 47*30=1420\": 47*30 is 1410, not 1420", v.reason());

        Verdict carry = task.verify(ADD, "1. 7+6=13, write 3\n2. 4+8=12, write 12\nA: 123");
        assertArrayEquals(new int[] {INCORRECT, INCORRECT}, carry.stepLabels());
        assertEquals("line 1: \"1. 7+6=13, write 3\": expected \"7+6=13, write 3 carry 1\"", carry.reason());

        Verdict offPath = task.verify(ADD, "1. 7+6=13, write 3 carry 1\n2. 2+2=4, write 4\nA: 133");
        assertTrue(offPath.correct());
        assertArrayEquals(new int[] {CORRECT, INCORRECT}, offPath.stepLabels());
        assertEquals("line 2: \"2. 2+2=4, write 4\": true, but not a step of this problem (next: \"4+8+1=13, write 13\")",
                offPath.reason());
    }

    @Test
    void aWrongFinalAnswerAfterRightSteps() {
        Verdict v = task.verify(MUL, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1693");
        assertFalse(v.correct());
        assertArrayEquals(new int[] {CORRECT, CORRECT, CORRECT}, v.stepLabels());
        assertEquals("1693", v.answer());
        assertEquals("line 4: answer 1693, expected 1692", v.reason());
    }

    @Test
    void noAnswerLine() {
        Verdict v = task.verify(MUL, "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\n");
        assertFalse(v.correct());
        assertArrayEquals(new int[] {CORRECT, CORRECT, CORRECT}, v.stepLabels());
        assertEquals("", v.answer());
        assertEquals("1692", v.expected());
        assertEquals("no answer line (\"A: <integer>\") after 3 lines", v.reason());

        Verdict unreadable = task.verify(MUL, "1. 47*6=282\nA: about 1692");
        assertFalse(unreadable.correct());
        assertArrayEquals(new int[] {CORRECT}, unreadable.stepLabels());
        assertEquals("", unreadable.answer());
        assertEquals("line 2: \"A: about 1692\": expected an answer line \"A: <integer>\"", unreadable.reason());
    }

    @Test
    void repeatsAreNeutralAndOrderIsFree() {
        Verdict v = task.verify(MUL, "1. 47*6=282\n2. 47*6=282\n3. 47*30=1410\n4. 1410+282=1692\nA: 1692");
        assertTrue(v.correct());
        assertArrayEquals(new int[] {CORRECT, NEUTRAL, CORRECT, CORRECT}, v.stepLabels());
        assertEquals("line 2: \"2. 47*6=282\": repeats step 1 of the worked answer", v.reason());

        Verdict swapped = task.verify(MUL, "1. 47*30=1410\n2. 47*6=282\n3. 282+1410=1692\nA: 1692");
        assertArrayEquals(new int[] {CORRECT, CORRECT, CORRECT}, swapped.stepLabels());
        assertEquals("", swapped.reason());
    }

    @Test
    void missingStepsAndMisnumberedOnes() {
        Verdict v = task.verify(MUL, "A: 1692");
        assertTrue(v.correct());
        assertArrayEquals(new int[0], v.stepLabels());
        assertEquals("3 of 3 steps of the worked answer not written, the first \"47*6=282\"", v.reason());

        Verdict n = task.verify(MUL, "1. 47*6=282\n3. 47*30=1410\n3. 282+1410=1692\nA: 1692");
        assertArrayEquals(new int[] {CORRECT, INCORRECT, CORRECT}, n.stepLabels());
        assertEquals("line 2: \"3. 47*30=1410\": numbered 3, expected 2", n.reason());
    }

    @Test
    void garbageAndEmptyCompletions() {
        Verdict empty = task.verify(MUL, "");
        assertFalse(empty.correct());
        assertArrayEquals(new int[0], empty.stepLabels());
        assertEquals("", empty.answer());
        assertEquals("no answer line (\"A: <integer>\") after 0 lines", empty.reason());

        Verdict garbage = task.verify(MUL, "1692 1692 ==\n\n1. 47*6=\nA");
        assertFalse(garbage.correct());
        assertArrayEquals(new int[] {INCORRECT, INCORRECT, INCORRECT, INCORRECT}, garbage.stepLabels());
        assertEquals("line 1: \"1692 1692 ==\": not a step \"1. ...\" or an answer line \"A: <integer>\"",
                garbage.reason());

        Verdict badStep = task.verify(MUL, "1. 47*6=28 2\nA: 1692");
        assertArrayEquals(new int[] {INCORRECT}, badStep.stepLabels());
        assertEquals("line 1: \"1. 47*6=28 2\": not an equation like \"47*6=282\"", badStep.reason());
        assertTrue(badStep.correct());
    }

    @Test
    void hugeNumbersDoNotOverflow() {
        String huge = "9".repeat(30);
        Verdict v = task.verify(MUL, "1. " + huge + "*" + huge + "=1\n2. 47*6=" + huge + "9\nA: " + huge + huge);
        assertFalse(v.correct());
        assertArrayEquals(new int[] {INCORRECT, INCORRECT}, v.stepLabels());
        assertEquals(huge + huge, v.answer());
        assertTrue(v.reason().startsWith("line 1: \"1. 999"), v.reason());
        assertTrue(v.reason().endsWith(" is " + new java.math.BigInteger(huge).pow(2) + ", not 1"), v.reason());

        Verdict tooLong = task.verify(MUL, "1. " + "1".repeat(5000) + "+1=2\nA: -" + "0".repeat(5000) + "1692");
        assertArrayEquals(new int[] {INCORRECT}, tooLong.stepLabels());
        assertFalse(tooLong.correct(), "a negative answer is not 1692");
        Verdict zeros = task.verify(MUL, "A: 0001692");
        assertTrue(zeros.correct(), "leading zeros do not change the number");
    }

    @Test
    void whatFollowsTheAnswerLineIsIgnored() {
        Verdict v = task.verify(ADD, "1. 7+6=13, write 3 carry 1\n2. 4+8+1=13, write 13\nA: 133 \nQ: 1+1=?\n1. nonsense");
        assertTrue(v.correct());
        assertArrayEquals(new int[] {CORRECT, CORRECT}, v.stepLabels());
        assertEquals("133", v.answer());
        assertEquals("", v.reason());
    }

    @Test
    void negativeAnswersOfTheOriginalSampling() {
        Verdict v = task.verify("Q: 12-45=?\n", "1. 5-2=3, write 3\n2. 4-1=3, write 3\nA: -33");
        assertTrue(v.correct());
        assertArrayEquals(new int[] {CORRECT, CORRECT}, v.stepLabels());
        assertFalse(task.verify("Q: 12-45=?\n", "1. 5-2=3, write 3\n2. 4-1=3, write 3\nA: 33").correct());
    }

    @Test
    void aPromptThatIsNoProblem() {
        Verdict v = task.verify("What is 47*36?", "1. 47*6=282\nA: 1692");
        assertFalse(v.correct());
        assertArrayEquals(new int[] {INCORRECT}, v.stepLabels());
        assertEquals("1692", v.answer());
        assertEquals("", v.expected());
        assertEquals("prompt \"What is 47*36?\" is not a problem of the arithmetic task (expected e.g. "
                + "\"Q: 47*36=?\\n\")", v.reason());
    }

    /** Every generated worked answer verifies; changing one digit of one step makes exactly that step incorrect. */
    @Test
    void generatedAnswersVerifyAndMutatedStepsDoNot() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int n = 0; n < 2000; n++) {
            Problem p = Arithmetic.randomByDigits(rnd, 1 + n % 9, 1 + n % 4, "+-*");
            TaskExample e = WorkedAnswer.example(p);
            Verdict v = task.verify(e.prompt(), e.completion());
            assertTrue(v.correct(), e.toString());
            assertEquals("", v.reason(), e.toString());
            int[] all = new int[e.steps().size()];
            assertArrayEquals(all, v.stepLabels(), e.toString()); // CORRECT is 0
            assertEquals(Long.toString(p.answer()), v.expected());

            int k = rnd.nextInt(e.steps().size());
            String step = e.steps().get(k);
            int at = step.indexOf(". ") + 2 + rnd.nextInt(step.length() - step.indexOf(". ") - 2);
            char c = step.charAt(at);
            if (c < '0' || c > '9') {
                continue;
            }
            String mutated = step.substring(0, at) + (char) ('0' + (c - '0' + 1 + rnd.nextInt(9)) % 10)
                    + step.substring(at + 1);
            String completion = e.completion().replace(step + "\n", mutated + "\n");
            Verdict m = task.verify(e.prompt(), completion);
            int[] expected = new int[e.steps().size()];
            expected[k] = INCORRECT;
            assertArrayEquals(expected, m.stepLabels(), completion);
            assertTrue(m.correct(), completion);
            assertTrue(m.reason().startsWith("line " + (k + 1) + ": "), m.reason());
        }
    }

    /** Random strings over the characters of the format, and random cuts of real answers: never an exception. */
    @Test
    void neverThrows() {
        SplittableRandom rnd = new SplittableRandom(22);
        String alphabet = "0123456789+-*=.,:AQ? \nwritecarybo\r\t\u00e9";
        for (int n = 0; n < 5000; n++) {
            StringBuilder b = new StringBuilder();
            int len = rnd.nextInt(80);
            for (int i = 0; i < len; i++) {
                b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            Problem p = Arithmetic.randomByDigits(rnd, 4, 3, "+-*");
            TaskExample e = WorkedAnswer.example(p);
            String cut = e.completion().substring(0, rnd.nextInt(e.completion().length() + 1));
            for (String completion : new String[] {b.toString(), cut, cut + b, b + "\n" + e.completion()}) {
                Verdict v = task.verify(e.prompt(), completion);
                String[] lines = completion.split("\n", -1);
                int steps = 0;
                while (steps < lines.length && !lines[steps].startsWith("A:")) {
                    steps++;
                }
                if (steps == lines.length && completion.endsWith("\n") || completion.isEmpty()) {
                    steps--; // a trailing newline starts no line
                }
                assertEquals(Math.max(steps, 0), v.stepLabels().length, completion);
                assertEquals(Long.toString(p.answer()), v.expected());
                if (v.correct()) {
                    assertEquals(java.math.BigInteger.valueOf(p.answer()), new java.math.BigInteger(v.answer()),
                            completion);
                }
                Verdict odd = task.verify(b.toString(), completion);
                assertFalse(odd.correct());
                assertEquals("", odd.expected());
            }
        }
    }
}
