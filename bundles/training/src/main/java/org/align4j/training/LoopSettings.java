package org.align4j.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.align4j.api.pipeline.Settings;

/**
 * The keys of a stage that the loop reads, the same for every method:
 *
 * <pre>
 * steps: 600                           # optimizer steps (default 1000)
 * batch: 16                            # examples per step (default 16)
 * log_every: 10                        # steps between STEP events (default 1)
 * eval: { every: 100, batches: 8, at_start: false }   # evaluation every N steps (0 = only at the end), and
 *                                      # before the first step when at_start (a baseline to compare with)
 * checkpoint: { every: 100, keep: 3 }  # 0 = only when stopped and at the end
 * optimizer: { name: adamw, lr: 1.0e-3, schedule: cosine, ... }   # name required; the optimizer's own keys
 * </pre>
 *
 * plus the keys the pipeline itself reads from a stage ({@code trainer}, {@code init}, {@code model}, {@code data},
 * and the names of the trainer's plugins, e.g. {@code loss}). A method adds its own keys; any other key is an error
 * naming the file and the key.
 */
public final class LoopSettings {
    /** Keys every stage may have. */
    static final List<String> KEYS = List.of("trainer", "init", "model", "data", "steps", "batch", "log_every", "eval",
            "checkpoint", "optimizer");

    public final int steps;
    public final int batch;
    public final int logEvery;
    public final int evalEvery;
    public final int evalBatches;
    public final boolean evalAtStart;
    public final int checkpointEvery;
    public final int checkpointKeep;
    /** The stage's {@code optimizer} section. */
    public final Settings optimizer;
    /** {@code optimizer.schedule}, default {@code cosine}. */
    public final String scheduleName;

    /**
     * Reads the loop's keys of {@code stage} and checks that it has no key but those, the trainer's plugin references
     * and {@code methodKeys}.
     */
    public LoopSettings(Settings stage, String... methodKeys) {
        List<String> known = new ArrayList<>(KEYS);
        known.addAll(Arrays.asList(methodKeys));
        stage.checkKnown(known.toArray(new String[0]));
        steps = stage.getInt("steps", 1000, 1, Integer.MAX_VALUE);
        batch = stage.getInt("batch", 16, 1, 1 << 16);
        logEvery = stage.getInt("log_every", 1, 1, Integer.MAX_VALUE);
        Settings eval = stage.section("eval").checkKnown("every", "batches", "at_start");
        evalEvery = eval.getInt("every", 0, 0, Integer.MAX_VALUE);
        evalBatches = eval.getInt("batches", 16, 1, 1 << 20);
        evalAtStart = eval.getBoolean("at_start", false);
        Settings ckpt = stage.section("checkpoint").checkKnown("every", "keep");
        checkpointEvery = ckpt.getInt("every", 0, 0, Integer.MAX_VALUE);
        checkpointKeep = ckpt.getInt("keep", 3, 1, 1000);
        optimizer = stage.section("optimizer");
        if (!optimizer.has("name")) {
            throw optimizer.error("name", "missing (required): which optimizer, e.g. adamw");
        }
        scheduleName = optimizer.getString("schedule", "cosine");
    }
}
