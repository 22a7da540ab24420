package org.align4j.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.runs.RunSample;

/**
 * A run's metrics as the shell prints them: the newest value of every metric (with its stage and step), or, for one
 * metric, each kept value.
 */
public final class MetricTable {
    private final List<RunSample> samples;
    private final String metric;

    MetricTable(List<RunSample> samples, String metric) {
        this.samples = List.copyOf(samples);
        this.metric = metric;
    }

    public List<RunSample> samples() {
        return samples;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (metric == null) {
            Map<String, RunSample> last = new LinkedHashMap<>();
            for (RunSample s : samples) {
                s.metrics().keySet().forEach(k -> last.put(k, s));
            }
            if (last.isEmpty()) {
                return "no metrics yet\n";
            }
            int w = Math.max(6, last.keySet().stream().mapToInt(String::length).max().orElse(6));
            b.append(pad("METRIC", w)).append("  VALUE         STAGE  STEP\n");
            last.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> b.append(pad(e.getKey(), w))
                    .append("  ").append(pad(Format.number(e.getValue().metrics().get(e.getKey())), 12)).append("  ")
                    .append(pad(e.getValue().stage(), 5)).append("  ").append(e.getValue().step()).append('\n'));
            return b.toString();
        }
        b.append("STAGE  STEP  ").append(metric).append('\n');
        int n = 0;
        for (RunSample s : samples) {
            Double v = s.metrics().get(metric);
            if (v != null) {
                b.append(pad(s.stage(), 5)).append("  ").append(pad(String.valueOf(s.step()), 4)).append("  ")
                        .append(Format.number(v)).append(s.kind() == RunSample.Kind.EVALUATION ? " (evaluation)" : "")
                        .append('\n');
                n++;
            }
        }
        return n == 0 ? "no values of " + metric + " yet\n" : b.toString();
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
