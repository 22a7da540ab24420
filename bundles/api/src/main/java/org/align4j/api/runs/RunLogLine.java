package org.align4j.api.runs;

/** One line of a run's log (what the console prints for it), numbered from 1 in the order written. */
public final class RunLogLine {
    private final long seq;
    private final long timeMillis;
    private final String text;

    public RunLogLine(long seq, long timeMillis, String text) {
        this.seq = seq;
        this.timeMillis = timeMillis;
        this.text = text;
    }

    public long seq() {
        return seq;
    }

    public long timeMillis() {
        return timeMillis;
    }

    public String text() {
        return text;
    }
}
