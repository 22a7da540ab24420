package org.align4j.feedback;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The stage's {@code feedback/} folder, written as a whole: the four files, with held-out questions
 * ({@link HeldOut}) the four noise-free files of {@value #HELDOUT}/, and {@value #SUMMARY} (the fingerprint of what
 * they were made from, and the metrics) go into a temporary folder beside it, which is then renamed into place. So
 * {@code feedback/} is either absent or complete; a crash or a stop leaves at most the temporary folder, which the
 * next run deletes.
 *
 * <pre>
 * feedback/
 *   pairwise.jsonl  listwise.jsonl  pointwise.jsonl  process.jsonl     training questions, with noise
 *   heldout/                                                           only when heldout &gt; 0
 *     pairwise.jsonl  listwise.jsonl  pointwise.jsonl  process.jsonl   held-out questions, no noise
 *   summary.properties
 * </pre>
 */
final class FeedbackFolder {
    static final String NAME = "feedback";
    static final String SUMMARY = "summary.properties";
    /** The subfolder of the held-out files. */
    static final String HELDOUT = "heldout";
    private static final String FINGERPRINT = "fingerprint";
    private static final String METRIC = "metric.";

    private final Path dir;

    FeedbackFolder(Path stageDir) {
        this.dir = stageDir.resolve(NAME);
    }

    Path path() {
        return dir;
    }

    /** The folder of the held-out files. */
    Path heldout() {
        return dir.resolve(HELDOUT);
    }

    /** The metrics of a complete folder (without held-out files) made from {@code fingerprint}. */
    Optional<Map<String, Double>> complete(String fingerprint) throws IOException {
        return complete(fingerprint, false);
    }

    /**
     * The metrics of a complete folder made from {@code fingerprint}, with the held-out files if {@code heldout};
     * empty if there is none, or another.
     */
    Optional<Map<String, Double>> complete(String fingerprint, boolean heldout) throws IOException {
        Path summary = dir.resolve(SUMMARY);
        if (!Files.isRegularFile(summary)) {
            return Optional.empty();
        }
        for (String f : FeedbackSet.FILES) {
            if (!Files.isRegularFile(dir.resolve(f)) || heldout && !Files.isRegularFile(heldout().resolve(f))) {
                return Optional.empty();
            }
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(summary, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        if (!fingerprint.equals(p.getProperty(FINGERPRINT))) {
            return Optional.empty();
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames().stream().sorted().toArray(String[]::new)) {
            if (k.startsWith(METRIC)) {
                try {
                    metrics.put(k.substring(METRIC.length()), Double.parseDouble(p.getProperty(k)));
                } catch (NumberFormatException e) {
                    return Optional.empty(); // not ours: make it again
                }
            }
        }
        return Optional.of(metrics);
    }

    /**
     * Writes the files of {@code set} (and its held-out files, if it holds questions out) and the summary, then puts
     * them in place of any older folder.
     */
    void write(FeedbackSet set, String fingerprint) throws IOException {
        Path parent = dir.getParent();
        Path tmp = parent.resolve("." + NAME + ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        writeFiles(set.main, tmp);
        if (set.holdsOut()) {
            Files.createDirectories(tmp.resolve(HELDOUT));
            writeFiles(set.heldout, tmp.resolve(HELDOUT));
        }
        Properties p = new Properties();
        p.setProperty(FINGERPRINT, fingerprint);
        set.metrics().forEach((k, v) -> p.setProperty(METRIC + k, Double.toString(v)));
        try (BufferedWriter w = Files.newBufferedWriter(tmp.resolve(SUMMARY), StandardCharsets.UTF_8)) {
            p.store(w, "align4j feedback: what the files were made from, and their counts");
        }
        Path old = parent.resolve("." + NAME + ".old");
        deleteTree(old);
        if (Files.exists(dir)) {
            move(dir, old);
        }
        move(tmp, dir);
        deleteTree(old);
    }

    private static void writeFiles(FeedbackSet.Part part, Path folder) throws IOException {
        for (String f : FeedbackSet.FILES) {
            try (Writer w = Files.newBufferedWriter(folder.resolve(f), StandardCharsets.UTF_8)) {
                for (String line : part.lines(f)) {
                    w.write(line);
                    w.write('\n');
                }
            }
        }
    }

    /** Deletes a temporary folder a stopped or crashed run left. */
    void discardTemporary() throws IOException {
        deleteTree(dir.getParent().resolve("." + NAME + ".tmp"));
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toArray(Path[]::new)) {
                Files.delete(q);
            }
        }
    }
}
