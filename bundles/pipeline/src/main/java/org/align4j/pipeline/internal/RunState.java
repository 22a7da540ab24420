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
    private boolean pause;
    private volatile java.util.function.Consumer<Boolean> pauseHook = waiting -> { };

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
        notifyAll(); // a paused run wakes up to stop
    }

    /** Asks the run to wait at its next boundary (its next {@link #stopRequested()}) until resumed or stopped. */
    public synchronized void pause() {
        pause = true;
    }

    /** Lets a paused run go on. */
    public synchronized void resume() {
        pause = false;
        notifyAll();
    }

    public synchronized boolean pauseRequested() {
        return pause;
    }

    /** Called with {@code true} when the run starts waiting at a boundary, {@code false} when it goes on. */
    public void onPause(java.util.function.Consumer<Boolean> hook) {
        pauseHook = hook == null ? waiting -> { } : hook;
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
        if (Thread.currentThread() == thread) {
            awaitResume();
        }
        return stop;
    }

    /** Blocks the run's own thread while a pause is asked for and no stop is. */
    private void awaitResume() {
        synchronized (this) {
            if (!pause || stop) {
                return;
            }
        }
        pauseHook.accept(true);
        try {
            synchronized (this) {
                while (pause && !stop) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        requestStop("interrupted while paused");
                    }
                }
            }
        } finally {
            pauseHook.accept(false);
        }
    }

    /** Whether a stop was asked for; unlike {@link #stopRequested()} it never waits. */
    public boolean stopAsked() {
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
