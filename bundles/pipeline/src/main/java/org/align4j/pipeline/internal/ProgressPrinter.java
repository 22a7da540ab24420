package org.align4j.pipeline.internal;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;

/**
 * Prints training events for a person. STEP events become a progress line (step/total, loss, learning rate,
 * tokens/s, ETA): on a terminal one line rewritten with {@code \r}, otherwise (a log, CI) a plain line every few
 * percent or every few seconds. Every other event is one plain line.
 */
public final class ProgressPrinter {
    private static final int BAR = 20;

    /** Per stage: where it started and what was last printed. */
    private static final class Stage {
        long firstStep = -1;
        long firstTime;
        long lastBucket = -1;
        long lastPrinted = Long.MIN_VALUE;
    }

    private final Supplier<PrintStream> out;
    private final boolean interactive;
    private final int everyPercent;
    private final long everyMillis;
    private final Map<String, Stage> stages = new HashMap<>();
    /** Length of the {@code \r} line on screen, 0 when the cursor is at the start of a fresh line. */
    private int openLine;

    /**
     * @param out where to print (looked up at each print, so a shell's redirection of System.out is honoured)
     * @param interactive whether to rewrite one line with {@code \r}
     * @param everyPercent in plain mode, print when the step crosses a multiple of this percentage
     * @param everyMillis in plain mode, print also when this long has passed since the last printed line
     */
    public ProgressPrinter(Supplier<PrintStream> out, boolean interactive, int everyPercent, long everyMillis) {
        this.out = out;
        this.interactive = interactive;
        this.everyPercent = Math.max(1, everyPercent);
        this.everyMillis = everyMillis;
    }

    public synchronized void onEvent(TrainingEvent e) {
        if (e.kind() == TrainingEvent.Kind.STEP) {
            step(e);
            return;
        }
        String line = line(e);
        if (line == null) {
            return;
        }
        PrintStream p = out.get();
        if (openLine > 0) {
            p.print('\n');
            openLine = 0;
        }
        p.println(line);
        p.flush();
        if (e.kind() == TrainingEvent.Kind.RUN_FINISHED || e.kind() == TrainingEvent.Kind.RUN_FAILED) {
            stages.keySet().removeIf(k -> k.startsWith(e.run() + "\u0000"));
        } else if (e.kind() == TrainingEvent.Kind.STAGE_FINISHED) {
            stages.remove(key(e));
        }
    }

    private static String key(TrainingEvent e) {
        return e.run() + "\u0000" + e.stage();
    }

    private void step(TrainingEvent e) {
        Stage s = stages.computeIfAbsent(key(e), k -> new Stage());
        if (s.firstStep < 0) {
            s.firstStep = e.step();
            s.firstTime = e.timeMillis();
        }
        long total = e.totalSteps();
        boolean last = total > 0 && e.step() >= total;
        PrintStream p = out.get();
        if (interactive) {
            String line = stepLine(e, s.firstStep, s.firstTime);
            StringBuilder b = new StringBuilder("\r").append(line);
            for (int i = line.length(); i < openLine; i++) {
                b.append(' ');
            }
            p.print(b);
            openLine = line.length();
            if (last) {
                p.print('\n');
                openLine = 0;
            }
            p.flush();
            return;
        }
        long bucket = total > 0 ? e.step() * 100 / total / everyPercent : -1;
        boolean due = s.lastPrinted == Long.MIN_VALUE || last || (total > 0 && bucket > s.lastBucket)
                || e.timeMillis() - s.lastPrinted >= everyMillis;
        if (due) {
            p.println(stepLine(e, s.firstStep, s.firstTime));
            p.flush();
            s.lastPrinted = e.timeMillis();
            s.lastBucket = bucket;
        }
    }

    /** TRL's names of a PPO step's mean score and KL, shown on its progress line. */
    static final String SCORES = "objective/scores";
    static final String KL = "objective/kl";

    /**
     * {@code tiny 0:pretrain [#####---------------]  500/2000  25%  loss 2.3456  lr 3.00e-04  12.3k tok/s  ETA 4m12s}
     *
     * @param firstStep the step of the stage's first STEP event seen, and {@code firstTime} its time: the rate
     *        (and so the ETA) is measured from there
     */
    public static String stepLine(TrainingEvent e, long firstStep, long firstTime) {
        StringBuilder b = new StringBuilder();
        b.append(e.run()).append(' ').append(e.stage()).append(' ');
        long total = e.totalSteps();
        if (total > 0) {
            long step = Math.min(e.step(), total);
            int filled = (int) (step * BAR / total);
            b.append('[');
            for (int i = 0; i < BAR; i++) {
                b.append(i < filled ? '#' : '-');
            }
            b.append("] ");
            String t = String.valueOf(total);
            b.append(String.format(Locale.ROOT, "%" + t.length() + "d/%s %3d%%", e.step(), t, step * 100 / total));
        } else {
            b.append("step ").append(e.step());
        }
        Map<String, Double> m = e.metrics();
        if (m.containsKey(MetricNames.LOSS)) {
            b.append("  loss ").append(String.format(Locale.ROOT, "%.4f", m.get(MetricNames.LOSS)));
        }
        if (m.containsKey(MetricNames.LEARNING_RATE)) {
            b.append("  lr ").append(String.format(Locale.ROOT, "%.2e", m.get(MetricNames.LEARNING_RATE)));
        }
        if (m.containsKey(SCORES)) { // a PPO step: the rollouts' mean reward-model score and KL to the reference
            b.append("  score ").append(String.format(Locale.ROOT, "%.3f", m.get(SCORES)));
        }
        if (m.containsKey(KL)) {
            b.append("  kl ").append(String.format(Locale.ROOT, "%.3f", m.get(KL)));
        }
        if (m.containsKey(MetricNames.TOKENS_PER_SECOND)) {
            b.append("  ").append(Texts.rate(m.get(MetricNames.TOKENS_PER_SECOND))).append(" tok/s");
        }
        long elapsed = e.timeMillis() - firstTime;
        if (total > 0) {
            long eta = -1;
            long done = e.step() - firstStep;
            if (done > 0 && elapsed > 0) {
                eta = Math.round((double) elapsed / done * Math.max(0, total - e.step()));
            } else if (m.getOrDefault(MetricNames.STEPS_PER_SECOND, 0.0) > 0) {
                eta = Math.round(Math.max(0, total - e.step()) / m.get(MetricNames.STEPS_PER_SECOND) * 1000);
            }
            b.append(e.step() >= total ? "  done in " + Texts.duration(elapsed) : "  ETA " + Texts.duration(eta));
        } else {
            b.append("  ").append(Texts.duration(elapsed));
        }
        return b.toString();
    }

    /** The plain line of a non-STEP event, or {@code null} for none. */
    public static String line(TrainingEvent e) {
        String who = e.stage().isEmpty() ? e.run() : e.run() + " " + e.stage();
        String msg = e.message();
        switch (e.kind()) {
            case RUN_STARTED:
                return "run " + e.run() + " started" + (msg.isEmpty() ? "" : ": " + msg);
            case STAGE_STARTED:
                return "stage " + e.stage() + " of run " + e.run() + " started"
                        + (e.totalSteps() > 0 ? " (" + e.totalSteps() + " steps)" : "")
                        + (msg.isEmpty() ? "" : ": " + msg);
            case EVALUATION:
                return who + " eval at step " + e.step() + ": " + RunOutcome.metrics(e.metrics())
                        + (msg.isEmpty() ? "" : " (" + msg + ")");
            case CHECKPOINT:
                return who + " checkpoint at step " + e.step() + (msg.isEmpty() ? "" : ": " + msg);
            case SWAP:
                return who + " swap at step " + e.step() + ": " + msg;
            case MESSAGE:
                return who + ": " + msg;
            case WARNING:
                return who + ": warning at step " + e.step() + ": " + msg;
            case STAGE_FINISHED:
                return "stage " + e.stage() + " of run " + e.run() + " finished at step " + e.step()
                        + (e.metrics().isEmpty() ? "" : ": " + RunOutcome.metrics(e.metrics()))
                        + (msg.isEmpty() ? "" : " (" + msg + ")");
            case RUN_FINISHED:
                return "run " + e.run() + " finished" + (msg.isEmpty() ? "" : ": " + msg);
            case RUN_FAILED:
                return msg.startsWith("stopped") ? "run " + e.run() + " " + msg
                        : "run " + e.run() + " failed" + (msg.isEmpty() ? "" : ": " + msg);
            default:
                return who + " " + e.kind() + (msg.isEmpty() ? "" : ": " + msg);
        }
    }
}
