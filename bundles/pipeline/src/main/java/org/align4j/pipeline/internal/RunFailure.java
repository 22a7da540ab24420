package org.align4j.pipeline.internal;

/**
 * A run failed after it started: says which run and which part (a stage label, or {@code data}/{@code tokenizer}),
 * and carries what was thrown as its cause.
 */
public final class RunFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final String run;
    private final String part;

    public RunFailure(String run, String part, Throwable cause) {
        super("run " + run + " failed in " + part + ": " + Texts.message(cause), cause);
        this.run = run;
        this.part = part;
    }

    public String run() {
        return run;
    }

    /** {@code 0:pretrain}, {@code data} or {@code tokenizer}. */
    public String part() {
        return part;
    }
}
