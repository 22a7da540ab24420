package org.align4j.pipeline.internal;

import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.PipelineRunner.RunReport;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.train.TrainingResult;

/**
 * How a run ended, with what a person needs to read it: the report, each stage's label, the stop reason, and the
 * time it took. {@link #toString()} is the summary the shell command and headless mode print.
 */
public final class RunOutcome {
    /** Exit codes of headless mode (system property {@code align4j.exit.code}). */
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_INVALID = 2;
    public static final int EXIT_STOPPED = 3;

    private final String source;
    private final RunReport report;
    private final List<String> stageLabels;
    private final String stopReason;
    private final long elapsedMillis;

    public RunOutcome(String source, RunReport report, List<String> stageLabels, String stopReason,
            long elapsedMillis) {
        if (stageLabels.size() != report.stages().size()) {
            throw new IllegalArgumentException("one label per stage result");
        }
        this.source = source;
        this.report = report;
        this.stageLabels = List.copyOf(stageLabels);
        this.stopReason = stopReason == null ? "" : stopReason;
        this.elapsedMillis = elapsedMillis;
    }

    public RunReport report() {
        return report;
    }

    public List<String> stageLabels() {
        return stageLabels;
    }

    /** True when a stage returned {@link TrainingResult.Status#STOPPED} (the run can be resumed). */
    public boolean stopped() {
        return report.stages().stream().anyMatch(r -> r.status() == TrainingResult.Status.STOPPED);
    }

    public String stopReason() {
        return stopReason;
    }

    public long elapsedMillis() {
        return elapsedMillis;
    }

    public int exitCode() {
        return stopped() ? EXIT_STOPPED : EXIT_OK;
    }

    /** The exit code of a run that threw {@code t}: 2 for an invalid pipeline file, 1 otherwise. */
    public static int exitCode(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SettingsException) {
                return EXIT_INVALID;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return EXIT_FAILED;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("run ").append(report.run()).append(stopped() ? " stopped" : " completed").append(" in ")
                .append(Texts.duration(elapsedMillis)).append(" (").append(report.workDir()).append(')');
        if (stopped() && !stopReason.isEmpty()) {
            b.append(": ").append(stopReason);
        }
        b.append('\n');
        String stoppedStage = null;
        for (int i = 0; i < report.stages().size(); i++) {
            TrainingResult r = report.stages().get(i);
            String label = stageLabels.get(i);
            boolean st = r.status() == TrainingResult.Status.STOPPED;
            if (st) {
                stoppedStage = label;
            }
            b.append("  stage ").append(label).append(st ? " stopped" : " completed").append(" at step ")
                    .append(r.step());
            if (!r.metrics().isEmpty()) {
                b.append(": ").append(metrics(r.metrics()));
            }
            b.append('\n');
            if (r.output() != null) {
                b.append("    output: ").append(r.output()).append('\n');
            }
            for (int s = 0; s < r.samples().size(); s++) {
                b.append("    sample ").append(s + 1).append(": ")
                        .append(r.samples().get(s).replace("\n", "\n              ")).append('\n');
            }
        }
        if (!report.counters().isEmpty()) {
            b.append("  summary: ").append(counters(report.counters())).append('\n');
        }
        if (stoppedStage != null) {
            b.append("  to resume, run the same pipeline again (").append(source).append(", same overrides):"
                    + " completed stages finish at once and stage ").append(stoppedStage)
                    .append(" continues from its newest checkpoint\n");
        }
        return b.toString();
    }

    static String metrics(Map<String, Double> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(Texts.number(v)));
        return b.toString();
    }

    /** The run's own counters first, in a fixed order, then the trainers' in alphabetical order. */
    static String counters(Map<String, Long> m) {
        List<String> first = List.of(PipelineRun.DOCUMENTS, PipelineRun.TRAIN_DOCUMENTS,
                PipelineRun.VALIDATION_DOCUMENTS, PipelineRun.SKIPPED_LINES, PipelineRun.VOCAB_SIZE);
        List<String> keys = new java.util.ArrayList<>(m.keySet());
        keys.sort(java.util.Comparator.comparingInt((String k) -> first.contains(k) ? first.indexOf(k) : first.size())
                .thenComparing(java.util.Comparator.naturalOrder()));
        StringBuilder b = new StringBuilder();
        for (String k : keys) {
            b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(m.get(k));
        }
        return b.toString();
    }
}
