package org.align4j.api.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Checkpoints of a run under {@code <dir>/checkpoint-<step>/}. A checkpoint is written whole to a temporary
 * directory and renamed into place, so the newest complete one is always readable, even after a SIGKILL mid-write.
 */
@ProviderType
public interface CheckpointStore {

    /** Writes {@code checkpoint} and then deletes all but the newest {@code keep} ones. @return its directory */
    Path save(Path dir, Checkpoint checkpoint, ModelConfig config, int keep) throws IOException;

    /** The newest complete checkpoint under {@code dir}, if any. */
    Optional<Checkpoint> latest(Path dir) throws IOException;

    /** Steps of the complete checkpoints under {@code dir}, oldest first. */
    List<Long> steps(Path dir) throws IOException;
}
