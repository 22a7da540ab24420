package org.align4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Peak resident set of a process from Linux's {@code /proc/<pid>/status} ({@code VmHWM}, the high-water mark of
 * {@code VmRSS}), polled from a thread while the process runs; the last value read before it exits is kept.
 */
public final class ProcStatus implements AutoCloseable {
    private final long pid;
    private final long periodMillis;
    private final Thread thread;
    private volatile long peakKb = -1;
    private volatile boolean stop;

    private ProcStatus(long pid, long periodMillis) {
        this.pid = pid;
        this.periodMillis = periodMillis;
        this.thread = new Thread(this::poll, "align4j-bench-vmhwm-" + pid);
        this.thread.setDaemon(true);
    }

    /** Starts polling {@code pid} every {@code periodMillis}. */
    public static ProcStatus watch(long pid, long periodMillis) {
        ProcStatus p = new ProcStatus(pid, periodMillis);
        p.thread.start();
        return p;
    }

    private void poll() {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        while (!stop) {
            OptionalLong kb = read(status);
            if (kb.isEmpty()) {
                return; // gone (or not Linux)
            }
            peakKb = Math.max(peakKb, kb.getAsLong());
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static OptionalLong read(Path status) {
        try {
            return vmHwmKb(Files.readString(status));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** The peak resident set in KiB seen so far; -1 when none was read. */
    public long peakKb() {
        return peakKb;
    }

    /** Stops polling (call after the process has exited) and returns {@link #peakKb()}. */
    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code VmHWM} of the text of a {@code /proc/<pid>/status} file, in KiB ({@code "VmHWM:\t  123456 kB"}); empty
     * when the line is missing (a kernel thread, a zombie).
     */
    public static OptionalLong vmHwmKb(String statusText) {
        for (String line : statusText.split("\n")) {
            if (!line.startsWith("VmHWM:")) {
                continue;
            }
            String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
            if (parts.length != 2 || !parts[1].equals("kB")) {
                throw new IllegalArgumentException("/proc status: unexpected VmHWM line \"" + line
                        + "\" (expected \"VmHWM: <number> kB\")");
            }
            return OptionalLong.of(Long.parseLong(parts[0]));
        }
        return OptionalLong.empty();
    }
}
