package org.align4j.api.runs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.align4j.api.pipeline.SettingsException;

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
        this.overrides = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(overrides)); // in order
        this.workspace = workspace;
        this.origin = origin == null || origin.isBlank() ? "api" : origin;
    }

    /**
     * A request to run {@code file} with overrides as typed ({@code key=value} each; blank ones are ignored).
     *
     * @throws org.align4j.api.pipeline.SettingsException naming an override that has no {@code =}
     */
    public static RunRequest of(Path file, List<String> keyValues) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : keyValues) {
            if (item == null || item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new SettingsException("override", item.trim(),
                        "expected key=value, e.g. stages[0].steps=10 or run.name=try2");
            }
            out.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
        }
        return of(file, out);
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
