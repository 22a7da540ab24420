package org.align4j.task.arithmetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;

import org.align4j.task.arithmetic.Arithmetic.Equation;
import org.align4j.task.arithmetic.Arithmetic.Problem;
import org.junit.jupiter.api.Test;

class ArithmeticTest {

    @Test
    void answersAndText() {
        assertEquals(82, new Problem(37, '+', 45).answer());
        assertEquals(-33, new Problem(12, '-', 45).answer());
        assertEquals(36, new Problem(12, '*', 3).answer());
        assertEquals("12-45=", new Problem(12, '-', 45).prompt());
        assertEquals("12-45=-33", new Problem(12, '-', 45).document());
        long max = Integer.MAX_VALUE;
        assertEquals(max * max, new Problem(max, '*', max).answer());
        assertThrows(IllegalArgumentException.class, () -> new Problem(1, '/', 2));
        assertThrows(IllegalArgumentException.class, () -> new Problem(-1, '+', 2));
    }

    @Test
    void parsesWhatItWrites() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 2000; i++) {
            Problem p = Arithmetic.random(rnd, 1000, "+-*");
            Equation e = Arithmetic.parseEquation(p.document()).orElseThrow();
            assertEquals(p, e.problem());
            assertTrue(e.correct());
            assertEquals(Optional.of(p), Arithmetic.parsePrompt(p.prompt()));
        }
    }

    @Test
    void parsingIsStrict() {
        assertFalse(Arithmetic.parseEquation("37+45=81").orElseThrow().correct());
        assertEquals(-33, Arithmetic.parseEquation("12-45=-33").orElseThrow().claimed());
        for (String bad : new String[] {"", "37+45", "37+45=", "37+45=8 2", " 37+45=82", "37 + 45 = 82", "37++45=82",
            "-3+4=1", "37/45=0", "a+b=c", "37+45=82x", "37+45=--82", "99999999999+1=0", "3+4=5=6"}) {
            assertEquals(Optional.empty(), Arithmetic.parseEquation(bad), bad);
        }
        assertEquals(Optional.empty(), Arithmetic.parsePrompt("37+"));
        assertEquals(Optional.of(new Problem(37, '+', 45)), Arithmetic.parsePrompt("37+45"));
    }

    @Test
    void answersAreReadFromTheStartOfACompletion() {
        assertEquals(OptionalLong.of(82), Arithmetic.parseAnswer("82"));
        assertEquals(OptionalLong.of(-33), Arithmetic.parseAnswer("-33<|endoftext|>"));
        assertEquals(OptionalLong.of(7), Arithmetic.parseAnswer("7\n5+5=10"));
        assertEquals(OptionalLong.empty(), Arithmetic.parseAnswer(" 82"));
        assertEquals(OptionalLong.empty(), Arithmetic.parseAnswer("-"));
        assertEquals(OptionalLong.empty(), Arithmetic.parseAnswer(""));
        assertEquals(OptionalLong.empty(), Arithmetic.parseAnswer("1234567890123456789012"));
    }
}
