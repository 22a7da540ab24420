package org.align4j.pipeline.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** What is shared about one running run: its stop flag, its summary counters, and whether it has ended. */
public final class RunState {
    private final String name;
    private final Path workDir;
    private final Thread thread;
    private final Map<String, Long> counters = new LinkedHashMap<>();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stop;
    private volatile String reason = "";

    public RunState(String name, Path workDir, Thread thread) {
        this.name = name;
        this.workDir = workDir;
        this.thread = thread;
    }

    public String name() {
        return name;
    }

    public Path workDir() {
        return workDir;
    }

    /** Asks the run to stop at its next boundary; the first reason given is kept. */
    public synchronized void requestStop(String why) {
        if (!stop) {
            reason = why == null || why.isBlank() ? "stop requested" : why;
            stop = true;
        }
    }

    /**
     * True once a stop was asked for, or the run's own thread was interrupted (Ctrl-C in the shell). An interrupt is
     * taken as a stop request and cleared, so the trainer can still write its checkpoint (interruptible file channels
     * would fail on an interrupted thread).
     */
    public boolean stopRequested() {
        if (Thread.currentThread() == thread && Thread.interrupted()) {
            requestStop("interrupted");
        }
        return stop;
    }

    public String stopReason() {
        return stop ? reason : "";
    }

    public synchronized void count(String counter, long n) {
        counters.merge(counter, n, Long::sum);
    }

    public synchronized void set(String counter, long n) {
        counters.put(counter, n);
    }

    public synchronized Map<String, Long> counters() {
        return new LinkedHashMap<>(counters);
    }

    void finished() {
        done.countDown();
    }

    /** Waits up to {@code millis} for the run to end. */
    public boolean awaitEnd(long millis) throws InterruptedException {
        return done.await(millis, TimeUnit.MILLISECONDS);
    }
}
