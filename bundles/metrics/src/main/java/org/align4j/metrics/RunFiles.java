package org.align4j.metrics;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The files a sink holds open for the runs it writes, one per run and path: opened on first use, closed at the end of
 * the run (or of the stage, for per-stage files) and when the sink stops. A file that cannot be written is reported
 * once, on standard error, with the run and what goes on without it; the run itself is never disturbed. Callers
 * synchronise.
 */
final class RunFiles<F extends Closeable> {

    /** Opens the file of {@code path}. */
    interface Opener<F> {
        F open(Path path) throws IOException;
    }

    private final String what;
    private final Map<String, F> open = new HashMap<>();
    private final Set<String> failed = new HashSet<>();

    /** @param what the sink's files in messages, e.g. {@code "metrics.csv"} */
    RunFiles(String what) {
        this.what = what;
    }

    private static String key(String run, Path path) {
        return run + "\u0000" + path.toAbsolutePath().normalize();
    }

    /** The open file of {@code run} at {@code path}, opened now if it is not. */
    F get(String run, Path path, Opener<F> opener) throws IOException {
        String key = key(run, path);
        F f = open.get(key);
        if (f == null) {
            f = opener.open(path);
            open.put(key, f);
            failed.remove(key);
        }
        return f;
    }

    /** Says once per file that it cannot be written, and closes it. */
    void failed(String run, Path path, IOException e) {
        if (failed.add(key(run, path))) {
            System.err.println("align4j: cannot write " + what + " at " + path + " (run " + run + "): "
                    + e.getMessage() + "; the run goes on without it");
        }
        close(run, path);
    }

    void close(String run, Path path) {
        closeKey(key(run, path));
    }

    /** Closes every file of {@code run}. */
    void closeRun(String run) {
        for (String key : new HashSet<>(open.keySet())) {
            if (key.startsWith(run + "\u0000")) {
                closeKey(key);
            }
        }
    }

    void closeAll() {
        for (String key : new HashSet<>(open.keySet())) {
            closeKey(key);
        }
    }

    int size() {
        return open.size();
    }

    private void closeKey(String key) {
        F f = open.remove(key);
        if (f != null) {
            try {
                f.close();
            } catch (IOException e) {
                System.err.println("align4j: closing " + what + " failed: " + e.getMessage());
            }
        }
    }
}
