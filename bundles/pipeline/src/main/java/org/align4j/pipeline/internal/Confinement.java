package org.align4j.pipeline.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;

/**
 * Keeps a pipeline file that came from outside (the web console) inside its workspace: the file itself and every
 * value of it that reads as a path (absolute, or holding a {@code /} or {@code \}, or starting with {@code ~} or
 * {@code ..}, or naming something that exists in the workspace) must resolve to a place inside the workspace,
 * after {@code ..} is applied and symbolic links are followed (as far as the path exists). A value that escapes is
 * refused naming its key and the path.
 */
public final class Confinement {
    private Confinement() {
    }

    /** Refuses a pipeline file outside the workspace. */
    public static void checkFile(Path workspace, Path file) {
        Path root = real(workspace);
        Path f = real(workspace.resolve(file).normalize());
        if (!f.startsWith(root)) {
            throw new IllegalArgumentException(file + ": the pipeline file is outside the workspace " + root
                    + (f.equals(workspace.resolve(file).normalize()) ? "" : " (it leads to " + f + ")")
                    + "; the console only runs files inside it");
        }
    }

    /** Refuses every path-like value of {@code settings} that leads outside the workspace. */
    public static void check(Settings settings, Path workspace) {
        walk(settings, workspace, "", settings.asMap());
    }

    private static void walk(Settings settings, Path workspace, String key, Object value) {
        if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                walk(settings, workspace, key.isEmpty() ? String.valueOf(e.getKey()) : key + "." + e.getKey(),
                        e.getValue());
            }
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                walk(settings, workspace, key + "[" + i + "]", l.get(i));
            }
        } else if (value instanceof String s && (looksLikePath(s) || existsIn(workspace, s))) {
            checkPath(workspace, Path.of(s.startsWith("~") ? System.getProperty("user.home") + s.substring(1) : s),
                    settings.source(), key);
        }
    }

    /** A plain name that is a file or link of the workspace (a link named like a data file is followed too). */
    static boolean existsIn(Path workspace, String s) {
        try {
            return !s.isBlank() && Files.exists(workspace.resolve(s.trim()), LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.InvalidPathException notAPath) {
            return false;
        }
    }

    static boolean looksLikePath(String s) {
        String t = s.trim();
        return t.indexOf('/') >= 0 || t.indexOf('\\') >= 0 || t.startsWith("~") || t.startsWith("..")
                || Path.of(t.isEmpty() ? "." : t).isAbsolute();
    }

    /** Refuses {@code path} (relative to the workspace) when it leads outside it. */
    public static void checkPath(Path workspace, Path path, String source, String key) {
        Path root = real(workspace);
        Path resolved = workspace.toAbsolutePath().normalize().resolve(path).normalize();
        Path r = real(resolved);
        if (!r.startsWith(root)) {
            throw new SettingsException(source, key, path + " is outside the workspace " + root
                    + (r.equals(resolved) ? "" : " (a symbolic link leads to " + r + ")")
                    + "; a pipeline started from the console may only name paths inside its workspace");
        }
    }

    /** The real path of {@code p}: links followed for the part that exists, the rest appended as written. */
    static Path real(Path p) {
        return real(p, 0);
    }

    private static Path real(Path p, int depth) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            // a dangling link (or one of a loop): follow it by hand, where it would lead once its target exists
            if (depth < 40 && Files.isSymbolicLink(existing)) {
                try {
                    Path target = existing.getParent().resolve(Files.readSymbolicLink(existing));
                    return real(target.resolve(existing.relativize(abs)), depth + 1);
                } catch (IOException unreadable) {
                    return abs;
                }
            }
            return abs;
        }
    }
}
