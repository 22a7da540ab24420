package org.align4j.cli;

import java.util.List;
import java.util.Locale;

import org.align4j.api.runs.RunInfo;

/** Submitted runs as the shell prints them: one row each, columns aligned. */
public final class RunTable {
    private final List<RunInfo> rows;

    RunTable(List<RunInfo> rows) {
        this.rows = List.copyOf(rows);
    }

    public List<RunInfo> rows() {
        return rows;
    }

    @Override
    public String toString() {
        if (rows.isEmpty()) {
            return "no run was submitted (align4j:submit <file> queues one; the web console starts them too)\n";
        }
        String[] head = {"RUN", "STATE", "STAGE", "STEP", "ETA", "MESSAGE"};
        String[][] cells = new String[rows.size()][];
        int[] w = new int[head.length];
        for (int i = 0; i < head.length; i++) {
            w[i] = head[i].length();
        }
        for (int r = 0; r < rows.size(); r++) {
            RunInfo x = rows.get(r);
            cells[r] = new String[] {x.id(), x.state().name().toLowerCase(Locale.ROOT), x.stage(),
                x.totalSteps() > 0 ? x.step() + "/" + x.totalSteps() : x.stage().isEmpty() ? "" : String.valueOf(
                        x.step()), x.etaSeconds() < 0 ? "" : Format.duration((long) (x.etaSeconds() * 1000)),
                x.message()};
            for (int i = 0; i < head.length - 1; i++) {
                w[i] = Math.max(w[i], cells[r][i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        row(b, head, w);
        for (String[] c : cells) {
            row(b, c, w);
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String[] c, int[] w) {
        for (int i = 0; i < c.length; i++) {
            b.append(c[i]);
            if (i < c.length - 1) {
                b.append(" ".repeat(w[i] - c[i].length() + 2));
            }
        }
        int end = b.length();
        while (end > 0 && b.charAt(end - 1) == ' ') {
            end--;
        }
        b.setLength(end);
        b.append('\n');
    }
}
