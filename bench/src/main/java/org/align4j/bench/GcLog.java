package org.align4j.bench;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The peak Java heap occupancy a JVM reported in its unified GC log ({@code -Xlog:gc,gc+heap+exit:file=...}): the
 * largest "before" figure of its collections ({@code Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M)})
 * and the heap in use at exit ({@code garbage-first heap total 262144K, used 23456K}). Heap grows between
 * collections, so the occupancy just before one is a local peak; the figure is a lower bound of the true peak
 * (allocation after the last collection is seen only through the exit line).
 */
public final class GcLog {
    /** Options that make a JVM write the lines this class reads to {@code file}. */
    public static String jvmOption(String file) {
        return "-Xlog:gc=info,gc+heap+exit=info:file=" + file;
    }

    private static final Pattern PAUSE = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
    private static final Pattern EXIT = Pattern.compile("\\sheap\\s+total\\s+\\d+[KMG],\\s+used\\s+(\\d+)([KMG])");

    private GcLog() {
    }

    /** The peak heap in bytes; -1 when the log holds neither a collection nor the exit summary. */
    public static long peakHeapBytes(List<String> lines) {
        long peak = -1;
        for (String line : lines) {
            Matcher p = PAUSE.matcher(line);
            if (p.find()) {
                peak = Math.max(peak, bytes(p.group(1), p.group(2)));
                continue;
            }
            Matcher e = EXIT.matcher(line);
            if (e.find()) {
                peak = Math.max(peak, bytes(e.group(1), e.group(2)));
            }
        }
        return peak;
    }

    private static long bytes(String n, String unit) {
        long v = Long.parseLong(n);
        switch (unit) {
            case "K":
                return v << 10;
            case "M":
                return v << 20;
            default:
                return v << 30;
        }
    }
}
