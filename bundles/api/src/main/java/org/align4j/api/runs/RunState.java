package org.align4j.api.runs;

/** Where a submitted run is. The last three are final. */
public enum RunState {
    /** Checked and waiting for a free slot ({@link RunService} runs a configured number at once). */
    QUEUED,
    /** Running a stage (or preparing data and tokenizer). */
    RUNNING,
    /** Asked to pause: it waits at its next step boundary until resumed or stopped. */
    PAUSED,
    /** Ended with an error; {@link RunInfo#message()} says which part failed and why. */
    FAILED,
    /** Stopped on request (after writing a checkpoint); it can be resumed by submitting the file again. */
    STOPPED,
    /** Every stage ran to its end. */
    COMPLETED;

    /** Whether the run has ended. */
    public boolean ended() {
        return this == FAILED || this == STOPPED || this == COMPLETED;
    }
}
