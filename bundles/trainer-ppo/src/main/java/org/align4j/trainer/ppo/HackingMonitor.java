package org.align4j.trainer.ppo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The reward-hacking monitor: per iteration the mean score of the learned reward model and of a second judge on the
 * same rollouts. It fires when, over the last {@code window} iterations, the least-squares trend of the learned reward
 * is up and the judge's is down, each by at least {@code threshold} standard errors of its slope (a t statistic, so
 * an iteration's sampling noise alone rarely fires it): the policy is learning what the reward model pays for, not
 * what it stands for. With two points, or points exactly on a line, the slope's sign decides.
 */
final class HackingMonitor {
    private final int window;
    private final double threshold;
    private final List<double[]> history = new ArrayList<>(); // {reward, judge} per iteration

    HackingMonitor(int window) {
        this(window, 2.0);
    }

    HackingMonitor(int window, double threshold) {
        this.window = window;
        this.threshold = threshold;
    }

    /** Records one iteration; returns whether the monitor fires on it. */
    boolean add(double reward, double judge) {
        history.add(new double[] {reward, judge});
        return firing();
    }

    /** Whether the last {@code window} iterations show the learned reward rising while the judge falls. */
    boolean firing() {
        return history.size() >= window && significance(0) >= threshold && significance(1) <= -threshold;
    }

    /**
     * The slope of series {@code which} over the last window divided by its standard error,
     * {@code sqrt(SSE / (n - 2) / Sxx)}; {@code +-infinity} for a non-zero slope without scatter (or two points), 0 for
     * none.
     */
    double significance(int which) {
        double[] f = fit(which);
        double slope = f[0];
        if (slope == 0) {
            return 0;
        }
        double se = f[1];
        return se <= 1e-12 * Math.abs(slope) ? Math.copySign(Double.POSITIVE_INFINITY, slope) : slope / se;
    }

    /** The least-squares slope per iteration of series {@code which} (0 reward, 1 judge) over the last window. */
    double trend(int which) {
        return fit(which)[0];
    }

    /**
     * The least-squares line through series {@code which} over the last window, x = 0 .. n-1:
     * {@code {slope, standard error of the slope}} (the error 0 with fewer than three points; both 0 below two).
     */
    private double[] fit(int which) {
        int n = Math.min(window, history.size());
        if (n < 2) {
            return new double[] {0, 0};
        }
        List<double[]> last = history.subList(history.size() - n, history.size());
        double mx = (n - 1) / 2.0;
        double my = 0;
        for (double[] h : last) {
            my += h[which];
        }
        my /= n;
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (i - mx) * (last.get(i)[which] - my);
            sxx += (i - mx) * (i - mx);
        }
        double slope = sxy / sxx;
        double sse = 0;
        for (int i = 0; i < n; i++) {
            double e = last.get(i)[which] - (my + slope * (i - mx));
            sse += e * e;
        }
        return new double[] {slope, n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : 0};
    }

    /** Forgets the history (a run resumed after the monitor paused it starts watching afresh). */
    void reset() {
        history.clear();
    }

    /** The history as text, for a checkpoint: {@code reward judge;reward judge;...}. */
    String save() {
        StringBuilder b = new StringBuilder();
        for (double[] h : history) {
            b.append(b.length() == 0 ? "" : ";").append(String.format(Locale.ROOT, "%.17g %.17g", h[0], h[1]));
        }
        return b.toString();
    }

    void load(String saved) {
        history.clear();
        if (saved == null || saved.isEmpty()) {
            return;
        }
        for (String pair : saved.split(";")) {
            String[] p = pair.trim().split(" ");
            history.add(new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])});
        }
    }
}
