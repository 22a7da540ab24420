package org.align4j.api.runs;

import java.nio.file.Path;
import java.util.List;

/** What a valid pipeline file would run: its name, seed and folder, and each stage with its folder. */
public final class PipelineCheck {
    /** One stage: {@code <index>:<trainer>} and its folder. */
    public record Stage(String label, Path dir) {
    }

    private final String source;
    private final String name;
    private final long seed;
    private final Path workDir;
    private final List<Stage> stages;

    public PipelineCheck(String source, String name, long seed, Path workDir, List<Stage> stages) {
        this.source = source;
        this.name = name;
        this.seed = seed;
        this.workDir = workDir;
        this.stages = List.copyOf(stages);
    }

    /** The file, as messages name it. */
    public String source() {
        return source;
    }

    public String name() {
        return name;
    }

    public long seed() {
        return seed;
    }

    public Path workDir() {
        return workDir;
    }

    public List<Stage> stages() {
        return stages;
    }
}
