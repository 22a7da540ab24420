package org.align4j.task.arithmetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.task.TaskExample;
import org.align4j.task.arithmetic.Arithmetic.Problem;
import org.junit.jupiter.api.Test;

/** The worked answers, checked against plain {@code long} arithmetic of the problem, digit by digit. */
class WorkedAnswerTest {

    private static final Pattern ADD = Pattern.compile("(\\d)\\+(\\d)(\\+1)?=(\\d+), write (\\d+)( carry 1)?");
    private static final Pattern SUB = Pattern.compile("(\\d+)-(\\d)(-1)?=(\\d), write (\\d)( borrow 1)?");
    private static final Pattern PARTIAL = Pattern.compile("(\\d+)\\*(\\d+)=(\\d+)");
    private static final Pattern SUM = Pattern.compile("(\\d+)\\+(\\d+)=(\\d+)");

    /** The documented examples, written out by hand: the format is the contract. */
    @Test
    void theDocumentedExamples() {
        assertExample(new Problem(47, '*', 36), "Q: 47*36=?\n", "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692");
        assertExample(new Problem(47, '+', 86), "Q: 47+86=?\n", "1. 7+6=13, write 3 carry 1\n2. 4+8+1=13, write 13\nA: 133");
        assertExample(new Problem(503, '-', 7), "Q: 503-7=?\n",
                "1. 13-7=6, write 6 borrow 1\n2. 10-0-1=9, write 9 borrow 1\n3. 5-0-1=4, write 4\nA: 496");
        assertExample(new Problem(12, '-', 45), "Q: 12-45=?\n", "1. 5-2=3, write 3\n2. 4-1=3, write 3\nA: -33");
        assertExample(new Problem(3, '+', 5), "Q: 3+5=?\n", "1. 3+5=8, write 8\nA: 8");
        assertExample(new Problem(47, '*', 305), "Q: 47*305=?\n", "1. 47*5=235\n2. 47*300=14100\n3. 235+14100=14335\nA: 14335");
        assertExample(new Problem(47, '*', 0), "Q: 47*0=?\n", "1. 47*0=0\nA: 0");
    }

    private static void assertExample(Problem p, String prompt, String completion) {
        TaskExample e = WorkedAnswer.example(p);
        assertEquals(prompt, e.prompt());
        assertEquals(completion, e.completion());
        assertEquals(Long.toString(p.answer()), e.answer());
        assertEquals(List.of(completion.split("\n")).subList(0, e.steps().size()), e.steps());
        assertEquals(Optional.of(p), WorkedAnswer.parsePrompt(prompt));
    }

    @Test
    void additionsGoColumnByColumnWithCarries() {
        SplittableRandom rnd = new SplittableRandom(11);
        int carries = 0;
        for (int n = 0; n < 3000; n++) {
            Problem p = Arithmetic.randomByDigits(rnd, 1 + n % 9, 1, "+");
            String a = Long.toString(p.left());
            String b = Long.toString(p.right());
            List<String> bodies = WorkedAnswer.bodies(p);
            assertEquals(Math.max(a.length(), b.length()), bodies.size(), p.toString());
            StringBuilder written = new StringBuilder();
            int carry = 0;
            for (int i = 0; i < bodies.size(); i++) {
                Matcher m = ADD.matcher(bodies.get(i));
                assertTrue(m.matches(), bodies.get(i));
                assertEquals(digit(a, i), Integer.parseInt(m.group(1)), p + " column " + i);
                assertEquals(digit(b, i), Integer.parseInt(m.group(2)), p + " column " + i);
                assertEquals(carry == 1, m.group(3) != null, p + " column " + i + ": carry in");
                int sum = digit(a, i) + digit(b, i) + carry;
                assertEquals(sum, Integer.parseInt(m.group(4)), p + " column " + i);
                boolean last = i == bodies.size() - 1;
                assertEquals(last ? sum : sum % 10, Integer.parseInt(m.group(5)), p + " column " + i);
                carry = last ? 0 : sum / 10;
                assertEquals(carry == 1, m.group(6) != null, p + " column " + i + ": carry out");
                carries += carry;
                written.insert(0, m.group(5));
            }
            assertEquals(p.left() + p.right(), Long.parseLong(written.toString()), p.toString());
        }
        assertTrue(carries > 1000, "carries " + carries);
    }

    @Test
    void subtractionsGoColumnByColumnWithBorrows() {
        SplittableRandom rnd = new SplittableRandom(12);
        int borrows = 0;
        for (int n = 0; n < 3000; n++) {
            // both samplings: by digits (never negative) and the original uniform one (often negative)
            Problem p = n % 2 == 0 ? Arithmetic.randomByDigits(rnd, 1 + n % 9, 1, "-")
                    : Arithmetic.random(rnd, 1 + rnd.nextInt(100_000), "-");
            long big = Math.max(p.left(), p.right());
            long small = Math.min(p.left(), p.right());
            String a = Long.toString(big);
            String b = Long.toString(small);
            List<String> bodies = WorkedAnswer.bodies(p);
            assertEquals(a.length(), bodies.size(), p.toString());
            StringBuilder written = new StringBuilder();
            int borrow = 0;
            for (int i = 0; i < bodies.size(); i++) {
                Matcher m = SUB.matcher(bodies.get(i));
                assertTrue(m.matches(), bodies.get(i));
                int top = Integer.parseInt(m.group(1));
                boolean borrowsHere = digit(a, i) - digit(b, i) - borrow < 0;
                assertEquals(digit(a, i) + (borrowsHere ? 10 : 0), top, p + " column " + i);
                assertEquals(digit(b, i), Integer.parseInt(m.group(2)), p + " column " + i);
                assertEquals(borrow == 1, m.group(3) != null, p + " column " + i + ": borrow in");
                int diff = top - digit(b, i) - borrow;
                assertEquals(diff, Integer.parseInt(m.group(4)), p + " column " + i);
                assertEquals(diff, Integer.parseInt(m.group(5)), p + " column " + i);
                assertEquals(borrowsHere, m.group(6) != null, p + " column " + i + ": borrow out");
                borrow = borrowsHere ? 1 : 0;
                borrows += borrow;
                written.insert(0, m.group(5));
            }
            assertEquals(0, borrow, p + ": the last column never borrows");
            long magnitude = Long.parseLong(written.toString());
            assertEquals(p.left() - p.right(), p.left() >= p.right() ? magnitude : -magnitude, p.toString());
            if (n % 2 == 0) {
                assertTrue(p.left() >= p.right(), "sampling by digits puts the larger operand first: " + p);
            }
        }
        assertTrue(borrows > 1000, "borrows " + borrows);
    }

    @Test
    void multiplicationsSumPartialProducts() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (int n = 0; n < 3000; n++) {
            Problem p = n < 2900 ? Arithmetic.randomByDigits(rnd, 1 + n % 9, 1 + n % 7, "*")
                    : new Problem(rnd.nextLong(Integer.MAX_VALUE + 1L), '*', rnd.nextLong(Integer.MAX_VALUE + 1L));
            String b = Long.toString(p.right());
            List<String> bodies = WorkedAnswer.bodies(p);
            int k = 0;
            long expectedPartials = 0;
            long sumOfPartials = 0;
            for (int i = 0; i < b.length(); i++) {
                if (digit(b, i) == 0) {
                    continue;
                }
                expectedPartials++;
                long m = digit(b, i) * (long) Math.pow(10, i);
                Matcher pm = PARTIAL.matcher(bodies.get(k++));
                assertTrue(pm.matches(), bodies.toString());
                assertEquals(p.left(), Long.parseLong(pm.group(1)), p.toString());
                assertEquals(m, Long.parseLong(pm.group(2)), p.toString());
                assertEquals(p.left() * m, Long.parseLong(pm.group(3)), p.toString());
                sumOfPartials += p.left() * m;
            }
            assertEquals(p.left() * p.right(), sumOfPartials, p.toString());
            if (p.right() == 0) {
                assertEquals(List.of(p.left() + "*0=0"), bodies);
                continue;
            }
            assertEquals(expectedPartials + expectedPartials - 1, bodies.size(), bodies.toString());
            long running = Long.parseLong(PARTIAL.matcher(bodies.get(0)).replaceAll("$3"));
            for (int j = 1; j < expectedPartials; j++) {
                Matcher sm = SUM.matcher(bodies.get(k++));
                assertTrue(sm.matches(), bodies.toString());
                long partial = Long.parseLong(PARTIAL.matcher(bodies.get(j)).replaceAll("$3"));
                assertEquals(running, Long.parseLong(sm.group(1)), bodies.toString());
                assertEquals(partial, Long.parseLong(sm.group(2)), bodies.toString());
                running += partial;
                assertEquals(running, Long.parseLong(sm.group(3)), bodies.toString());
            }
            assertEquals(p.left() * p.right(), running, p.toString());
        }
    }

    @Test
    void completionsAreNumberedStepsThenTheAnswer() {
        SplittableRandom rnd = new SplittableRandom(14);
        for (int n = 0; n < 1000; n++) {
            Problem p = Arithmetic.randomByDigits(rnd, 1 + n % 9, 1 + n % 9, "+-*");
            TaskExample e = WorkedAnswer.example(p);
            String[] lines = e.completion().split("\n", -1);
            assertEquals(e.steps().size() + 1, lines.length, e.completion());
            for (int i = 0; i < e.steps().size(); i++) {
                assertEquals(e.steps().get(i), lines[i]);
                assertEquals((i + 1) + ". " + WorkedAnswer.bodies(p).get(i), lines[i]);
            }
            assertEquals("A: " + p.answer(), lines[lines.length - 1]);
            assertEquals("Q: " + p.left() + p.op() + p.right() + "=?\n", e.prompt());
            assertEquals(Optional.of(p), WorkedAnswer.parsePrompt(e.prompt()));
        }
    }

    @Test
    void promptsAreReadStrictly() {
        assertEquals(Optional.of(new Problem(47, '*', 36)), WorkedAnswer.parsePrompt("Q: 47*36=?"));
        for (String bad : new String[] {"", "Q:", "Q: 47*36=", "47*36=?", "Q: 47*36=?\n\n", "Q:47*36=?", "Q: 4 7*36=?",
            "Q: 47/36=?", "Q: -47*36=?", "Q: 99999999999*1=?", "Q: 47*36=?x", "q: 47*36=?"}) {
            assertEquals(Optional.empty(), WorkedAnswer.parsePrompt(bad), bad);
        }
    }

    /** Digit {@code i} (0 = ones) of a decimal string; 0 beyond its length. */
    private static int digit(String number, int i) {
        return i < number.length() ? number.charAt(number.length() - 1 - i) - '0' : 0;
    }
}
