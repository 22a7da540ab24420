package org.align4j.api.runs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What to run: a pipeline file, overrides of its values by key path ({@code stages.0.steps=600}), and, for files
 * that come from outside (the web console's uploads and choices), the workspace every path must stay inside.
 */
public final class RunRequest {
    private final Path file;
    private final Map<String, String> overrides;
    private final Path workspace;
    private final String origin;

    private RunRequest(Path file, Map<String, String> overrides, Path workspace, String origin) {
        this.file = Objects.requireNonNull(file, "file");
        this.overrides = Map.copyOf(new LinkedHashMap<>(overrides));
        this.workspace = workspace;
        this.origin = origin == null || origin.isBlank() ? "api" : origin;
    }

    /** A request to run {@code file} with {@code overrides}, with no workspace confinement. */
    public static RunRequest of(Path file, Map<String, String> overrides) {
        return new RunRequest(file, overrides, null, "api");
    }

    /**
     * The same request, confined to {@code workspace}: relative paths in the file resolve against it, and the file
     * and every path it names (run folder, data, model folders) must lie inside it, symbolic links followed.
     */
    public RunRequest confinedTo(Path workspace) {
        return new RunRequest(file, overrides, Objects.requireNonNull(workspace, "workspace"), origin);
    }

    /** The same request, saying where it came from ({@code console}, {@code shell}, {@code headless}). */
    public RunRequest from(String origin) {
        return new RunRequest(file, overrides, workspace, origin);
    }

    public Path file() {
        return file;
    }

    public Map<String, String> overrides() {
        return overrides;
    }

    public Optional<Path> workspace() {
        return Optional.ofNullable(workspace);
    }

    public String origin() {
        return origin;
    }
}
