package org.align4j.trainer.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link HackingMonitor}: its trends are the least-squares slopes of the last window (computed here from the normal
 * equations), and it fires only when the learned reward rises while the judge falls.
 */
class HackingMonitorTest {
    /**
     * The slope b of y ~ a + b x, x = 0 .. n-1, over the last {@code min(window, size)} points, from the normal
     * equations: b = (n Sxy - Sx Sy) / (n Sxx - Sx^2).
     */
    private static double slope(double[] y, int size, int window) {
        int n = Math.min(window, size);
        if (n < 2) {
            return 0;
        }
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < n; i++) {
            double yi = y[size - n + i];
            sx += i;
            sy += yi;
            sxx += (double) i * i;
            sxy += i * yi;
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    private static void close(double expected, double actual, String what) {
        assertEquals(expected, actual, 1e-9 * Math.max(1, Math.abs(expected)), what);
    }

    @Test
    void trendsAreLeastSquaresSlopesOverTheWindow() {
        Random rnd = new Random(3);
        int window = 5;
        int iterations = 12;
        double[] reward = new double[iterations];
        double[] judge = new double[iterations];
        HackingMonitor m = new HackingMonitor(window);
        for (int t = 0; t < iterations; t++) {
            reward[t] = 0.3 * t + rnd.nextGaussian();
            judge[t] = 2 - 0.1 * t + rnd.nextGaussian();
            m.add(reward[t], judge[t]);
            close(slope(reward, t + 1, window), m.trend(0), "reward trend after " + (t + 1) + " iterations");
            close(slope(judge, t + 1, window), m.trend(1), "judge trend after " + (t + 1) + " iterations");
        }
    }

    @Test
    void exactLineGivesItsSlope() {
        HackingMonitor m = new HackingMonitor(4);
        for (int t = 0; t < 7; t++) {
            m.add(1.5 + 0.25 * t, 9 - 2 * t);
        }
        close(0.25, m.trend(0), "reward slope");
        close(-2, m.trend(1), "judge slope");
    }

    @Test
    void fewerThanTwoPointsHaveNoTrend() {
        HackingMonitor m = new HackingMonitor(3);
        assertEquals(0.0, m.trend(0), 0.0);
        m.add(5, 1);
        assertEquals(0.0, m.trend(0), 0.0);
        assertEquals(0.0, m.trend(1), 0.0);
    }

    @Test
    void firesOnlyAfterWindowIterationsWhenRewardRisesAndJudgeFalls() {
        int window = 4;
        HackingMonitor m = new HackingMonitor(window);
        for (int t = 0; t < window - 1; t++) {
            assertFalse(m.add(0.1 * t, 1 - 0.1 * t), "fired after only " + (t + 1) + " iterations");
            assertFalse(m.firing());
            if (t >= 1) {
                assertTrue(m.trend(0) > 0 && m.trend(1) < 0, "the trends are already there before the window");
            }
        }
        assertTrue(m.add(0.3, 0.7), "fires at iteration " + window);
        assertTrue(m.firing());
        assertTrue(m.add(0.4, 0.6), "keeps firing while the trends last");
    }

    @Test
    void stopsFiringWhenTheJudgeRecovers() {
        HackingMonitor m = new HackingMonitor(3);
        m.add(0, 1);
        m.add(1, 0.5);
        assertTrue(m.add(2, 0));
        m.add(3, 1);
        boolean f = m.add(4, 2); // last three judge values 0, 1, 2: rising
        assertTrue(m.trend(1) > 0);
        assertFalse(f);
        assertFalse(m.firing());
    }

    @Test
    void doesNotFireWhenBothRise() {
        HackingMonitor m = new HackingMonitor(3);
        boolean any = false;
        for (int t = 0; t < 8; t++) {
            any |= m.add(0.5 * t, 0.2 * t);
        }
        assertTrue(m.trend(0) > 0 && m.trend(1) > 0);
        assertFalse(any);
        assertFalse(m.firing());
    }

    @Test
    void doesNotFireWhenRewardIsFlat() {
        HackingMonitor m = new HackingMonitor(3);
        boolean any = false;
        for (int t = 0; t < 8; t++) {
            any |= m.add(0.7, 1 - 0.3 * t);
        }
        assertEquals(0.0, m.trend(0), 1e-12, "flat reward");
        assertTrue(m.trend(1) < 0);
        assertFalse(any);
        assertFalse(m.firing());
    }

    @Test
    void doesNotFireWhenTheJudgeIsFlat() {
        HackingMonitor m = new HackingMonitor(3);
        boolean any = false;
        for (int t = 0; t < 8; t++) {
            any |= m.add(0.4 * t, 0.5);
        }
        assertEquals(0.0, m.trend(1), 1e-12, "flat judge");
        assertTrue(m.trend(0) > 0);
        assertFalse(any);
        assertFalse(m.firing());
    }

    @Test
    void doesNotFireWhenBothFall() {
        HackingMonitor m = new HackingMonitor(2);
        boolean any = false;
        for (int t = 0; t < 5; t++) {
            any |= m.add(-t, -2 * t);
        }
        assertFalse(any);
    }

    @Test
    void saveAndLoadKeepTheHistoryAndTheDecision() {
        Random rnd = new Random(8);
        HackingMonitor m = new HackingMonitor(4);
        for (int t = 0; t < 6; t++) {
            m.add(0.3 * t + 0.01 * rnd.nextGaussian() + 1e-7 / 3, -0.2 * t + Math.PI);
        }
        assertTrue(m.firing());
        HackingMonitor l = new HackingMonitor(4);
        l.load(m.save());
        assertTrue(l.firing(), "the loaded monitor fires as the saved one did");
        assertEquals(m.trend(0), l.trend(0), 0.0, "reward trend survives exactly");
        assertEquals(m.trend(1), l.trend(1), 0.0, "judge trend survives exactly");
        assertEquals(m.save(), l.save());
        // and goes on as the original would
        assertEquals(m.add(5, 5), l.add(5, 5));
        assertEquals(m.trend(1), l.trend(1), 0.0);

        // a monitor that does not fire loads as one that does not
        HackingMonitor quiet = new HackingMonitor(4);
        for (int t = 0; t < 5; t++) {
            quiet.add(t, t);
        }
        HackingMonitor q = new HackingMonitor(4);
        q.load(quiet.save());
        assertFalse(q.firing());
        assertEquals(quiet.trend(0), q.trend(0), 0.0);
    }

    @Test
    void loadOfNothingIsAnEmptyHistory() {
        HackingMonitor m = new HackingMonitor(2);
        m.add(0, 1);
        m.add(1, 0);
        assertTrue(m.firing());
        m.load("");
        assertFalse(m.firing());
        assertEquals(0.0, m.trend(0), 0.0);
        assertEquals("", m.save());
        m.add(0, 1);
        m.add(1, 0);
        m.load(null);
        assertFalse(m.firing());
    }

    @Test
    void resetClearsTheHistory() {
        HackingMonitor m = new HackingMonitor(3);
        for (int t = 0; t < 5; t++) {
            m.add(t, -t);
        }
        assertTrue(m.firing());
        m.reset();
        assertFalse(m.firing());
        assertEquals(0.0, m.trend(0), 0.0);
        assertEquals("", m.save());
        // it needs a whole window again before firing
        assertFalse(m.add(10, 0));
        assertFalse(m.add(11, -1));
        assertTrue(m.add(12, -2));
    }

    @Test
    void noiseAloneRarelyFiresButATrendThroughNoiseDoes() {
        java.util.Random rnd = new java.util.Random(42);
        HackingMonitor quiet = new HackingMonitor(5);
        HackingMonitor slopesOnly = new HackingMonitor(5, 0); // the sign of the slopes alone
        int fired = 0;
        int firedOnSigns = 0;
        for (int t = 0; t < 400; t++) {
            double r = 2 + 0.05 * rnd.nextGaussian(); // an iteration's mean scores: flat, with sampling noise
            double j = 0.7 + 0.03 * rnd.nextGaussian();
            fired += quiet.add(r, j) ? 1 : 0;
            firedOnSigns += slopesOnly.add(r, j) ? 1 : 0;
        }
        System.out.printf("monitor on 400 iterations of noise: fired %d times (slope signs alone: %d)%n", fired,
                firedOnSigns);
        assertTrue(firedOnSigns > 40, "signs alone fire on noise about a quarter of the time: " + firedOnSigns);
        assertTrue(fired <= 8, "two standard errors each: rarely on noise: " + fired);
        // the reward rising and the judge falling by a few noise widths over the window does fire
        HackingMonitor m = new HackingMonitor(5);
        boolean any = false;
        for (int t = 0; t < 5; t++) {
            any |= m.add(2 + 0.1 * t + 0.01 * rnd.nextGaussian(), 0.7 - 0.05 * t + 0.005 * rnd.nextGaussian());
        }
        assertTrue(any, "a clear trend through small noise fires");
    }

    @Test
    void significanceIsTheSlopeOverItsStandardError() {
        HackingMonitor m = new HackingMonitor(4);
        double[] y = {1.0, 1.5, 1.2, 2.1};
        for (double v : y) {
            m.add(v, 0);
        }
        // by hand: x = 0..3, slope b = Sxy / Sxx, residuals e_i = y_i - (ybar + b (x_i - xbar)),
        // se = sqrt(sum e^2 / 2 / Sxx)
        double xbar = 1.5;
        double ybar = (1.0 + 1.5 + 1.2 + 2.1) / 4;
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < 4; i++) {
            sxy += (i - xbar) * (y[i] - ybar);
            sxx += (i - xbar) * (i - xbar);
        }
        double b = sxy / sxx;
        double sse = 0;
        for (int i = 0; i < 4; i++) {
            double e = y[i] - (ybar + b * (i - xbar));
            sse += e * e;
        }
        close(b / Math.sqrt(sse / 2 / sxx), m.significance(0), "t of the reward's slope");
        assertEquals(0.0, m.significance(1), "a flat judge has no trend");
    }
}
