package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class ProcStatusTest {

    /** The start of a real /proc/<pid>/status of a JVM (Linux 6.1). */
    static final String STATUS = String.join("\n",
            "Name:\tjava",
            "Umask:\t0022",
            "State:\tS (sleeping)",
            "Tgid:\t22325",
            "Pid:\t22325",
            "PPid:\t21601",
            "VmPeak:\t 8974536 kB",
            "VmSize:\t 8974536 kB",
            "VmLck:\t       0 kB",
            "VmPin:\t       0 kB",
            "VmHWM:\t   91532 kB",
            "VmRSS:\t   84568 kB",
            "RssAnon:\t   62044 kB",
            "Threads:\t25",
            "");

    @Test
    void readsTheHighWaterMark() {
        assertEquals(OptionalLong.of(91_532), ProcStatus.vmHwmKb(STATUS));
    }

    @Test
    void noHighWaterMarkForKernelThreads() {
        assertEquals(OptionalLong.empty(), ProcStatus.vmHwmKb("Name:\tkworker/0:1\nState:\tI (idle)\n"));
    }

    @Test
    void refusesAnUnexpectedUnit() {
        assertThrows(IllegalArgumentException.class, () -> ProcStatus.vmHwmKb("VmHWM:\t 12 MB\n"));
    }

    @Test
    void pollsThisProcess() throws Exception {
        if (!Files.isReadable(Path.of("/proc/self/status"))) {
            return; // not Linux: nothing to poll
        }
        try (ProcStatus p = ProcStatus.watch(ProcessHandle.current().pid(), 10)) {
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (p.peakKb() < 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            long expected = ProcStatus.vmHwmKb(Files.readString(Path.of("/proc/self/status"))).getAsLong();
            assertTrue(p.peakKb() > 0 && p.peakKb() <= expected, p.peakKb() + " vs " + expected);
        }
    }
}
