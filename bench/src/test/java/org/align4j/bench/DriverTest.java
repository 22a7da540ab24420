package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The driver's choices that shape a measurement: which sides run, in which order, and the ratios it prints. */
class DriverTest {

    @Test
    void onlyTakesSeveralSides() {
        Main.Options o = Main.options(new String[] {"--only", "align4j,plain"});
        assertEquals(List.of("align4j", "plain"), o.only());
        assertFalse(o.bf16());
        assertNull(Main.options(new String[0]).only());
        assertTrue(Main.options(new String[] {"--only=plain, bf16"}).bf16()); // bf16 named: the bf16 matmul too
    }

    @Test
    void onlyNamesWhatItRefuses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Main.options(new String[] {"--only", "align4j,pytorch"}));
        assertTrue(e.getMessage().contains("\"pytorch\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Main.options(new String[] {"--only", "plain,plain"}));
        assertTrue(e.getMessage().contains("plain is listed twice"), e.getMessage());
    }

    @Test
    void evenRoundsRunTheSidesInReverse() {
        assertEquals(List.of("align4j", "plain", "djl", "bf16"), Main.order(1));
        assertEquals(List.of("bf16", "djl", "plain", "align4j"), Main.order(2));
        assertEquals(Main.order(1), Main.order(3));
        // over two rounds, each side has as many runs before another side as after it
        for (String a : Main.order(1)) {
            for (String b : Main.order(1)) {
                if (!a.equals(b)) {
                    int before = 0;
                    for (int round = 1; round <= 2; round++) {
                        List<String> o = Main.order(round);
                        before += o.indexOf(a) < o.indexOf(b) ? 1 : 0;
                    }
                    assertEquals(1, before, a + " before " + b);
                }
            }
        }
    }

    @Test
    void roundRatiosPairRunsOfTheSameRound() {
        List<Main.RunResult> rs = List.of(run("align4j", 1, 1000), run("plain", 1, 800), run("align4j", 2, 900),
                run("plain", 2, 1000), run("align4j", 3, 700), run("djl", 3, 350), run("plain", 4, 1234));
        assertEquals("1.250, 0.900", Main.roundRatios(rs, "align4j", "plain", BenchModel.Size.SMALL));
        assertEquals("2.000", Main.roundRatios(rs, "align4j", "djl", BenchModel.Size.SMALL));
        assertEquals("", Main.roundRatios(rs, "align4j", "plain", BenchModel.Size.LARGE));
    }

    private static Main.RunResult run(String side, int round, double median) {
        return new Main.RunResult(side, BenchModel.Size.SMALL, round, new double[] {median}, median, median, median, 1,
                -1, -1, 1, 6, 5, "test", Path.of("x.log"));
    }
}
