package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint directories, written and read for real in a temporary directory. */
class CheckpointStoreImplTest {

    @TempDir
    Path dir;

    private final CheckpointStoreImpl store = new CheckpointStoreImpl();
    private final ModelConfig config = ModelConfig.builder().vocabSize(20).layers(1).dModel(8).heads(2).build();

    private static Checkpoint checkpoint(long step) {
        return new Checkpoint(step, Map.of(
                "policy.tok_emb.weight", new TensorData(new long[] {2, 2}, new float[] {step, 1, 2, 3}),
                "adamw.m.policy.tok_emb.weight", new TensorData(new long[] {2, 2}, new float[] {-step, 0, 0, 1})),
                Map.of("data.position", Long.toString(10 * step), "rng", "abc"), null);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void saveThenLatestGivesEverythingBack() throws IOException {
        assertEquals(Optional.empty(), store.latest(dir.resolve("nothing-here")));
        assertEquals(List.of(), store.steps(dir));
        Path saved = store.save(dir.resolve("run"), checkpoint(12), config, 3);
        assertEquals(dir.resolve("run/checkpoint-12"), saved);
        assertTrue(Files.isRegularFile(saved.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(saved.resolve("state.json")));
        assertEquals(config, new SafetensorsWeightStore().loadConfig(saved.resolve("config.json")));

        Checkpoint back = store.latest(dir.resolve("run")).orElseThrow();
        assertEquals(12, back.step());
        assertEquals(saved, back.location());
        assertEquals(Map.of("data.position", "120", "rng", "abc"), back.state());
        assertEquals(checkpoint(12).tensors().keySet(), back.tensors().keySet());
        checkpoint(12).tensors().forEach((name, t) -> {
            assertArrayEquals(t.shape(), back.tensors().get(name).shape(), name);
            assertArrayEquals(t.values(), back.tensors().get(name).values(), name);
        });
        try (Stream<Path> s = Files.list(dir.resolve("run"))) {
            assertEquals(List.of("checkpoint-12"), s.map(p -> p.getFileName().toString()).toList(),
                    "no temporary directory is left behind");
        }
    }

    @Test
    void keepsOnlyTheNewest() throws IOException {
        for (long step : new long[] {100, 200, 300, 400}) {
            store.save(dir, checkpoint(step), config, 2);
        }
        assertEquals(List.of(300L, 400L), store.steps(dir));
        assertEquals(List.of("checkpoint-300", "checkpoint-400"), names());
        assertEquals(400, store.latest(dir).orElseThrow().step());

        // saving an older step (a rerun after a restart) keeps it: it is the one just written
        store.save(dir, checkpoint(50), config, 2);
        assertEquals(List.of(50L, 400L), store.steps(dir));
        store.save(dir, checkpoint(500), config, 1);
        assertEquals(List.of(500L), store.steps(dir));
        assertThrows(IllegalArgumentException.class, () -> store.save(dir, checkpoint(600), config, 0));
    }

    @Test
    void savingAStepAgainReplacesIt() throws IOException {
        store.save(dir, checkpoint(7), config, 5);
        Checkpoint other = new Checkpoint(7, Map.of("x", new TensorData(new long[] {1}, new float[] {9})),
                Map.of("k", "v"), null);
        store.save(dir, other, config, 5);
        Checkpoint back = store.latest(dir).orElseThrow();
        assertEquals(Map.of("k", "v"), back.state());
        assertEquals(List.of("x"), List.copyOf(back.tensors().keySet()));
        assertEquals(List.of("checkpoint-7"), names());
    }

    @Test
    void leftoversAndIncompleteCheckpointsAreIgnored() throws IOException {
        store.save(dir, checkpoint(10), config, 10);
        // a save killed half way: a temporary directory with a newer step, partly written
        Path tmp = Files.createDirectory(dir.resolve(".checkpoint-30.tmp-5f3a"));
        Files.writeString(tmp.resolve("state.json"), "{\"step\": 30, \"state\": {}}");
        // a checkpoint directory someone emptied of its state.json
        Path broken = store.save(dir, checkpoint(20), config, 10);
        Files.delete(broken.resolve("state.json"));
        // names that are not checkpoints
        Files.createDirectory(dir.resolve("checkpoint-040"));
        Files.createDirectory(dir.resolve("checkpoint-latest"));
        Files.writeString(dir.resolve("checkpoint-50"), "a file, not a directory");

        assertEquals(List.of(10L), store.steps(dir));
        assertEquals(10, store.latest(dir).orElseThrow().step());
        store.save(dir, checkpoint(60), config, 1);
        assertEquals(List.of(60L), store.steps(dir));
        assertTrue(Files.isDirectory(tmp), "leftovers are not deleted: another writer may own them");
        assertTrue(Files.isDirectory(broken), "incomplete directories are not deleted either");
        assertFalse(Files.exists(dir.resolve("checkpoint-10")));
    }

    @Test
    void aCorruptNewestCheckpointIsReportedNotSkipped() throws IOException {
        store.save(dir, checkpoint(1), config, 5);
        Path newest = store.save(dir, checkpoint(2), config, 5);
        Files.writeString(newest.resolve("state.json"), "{\"step\": 3, \"state\": {}}");
        IOException e = assertThrows(IOException.class, () -> store.latest(dir));
        assertTrue(e.getMessage().contains("says step 3 but its directory is checkpoint-2"), e.getMessage());
        Files.write(newest.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Files.writeString(newest.resolve("state.json"), "{\"step\": 2, \"state\": {}}");
        e = assertThrows(IOException.class, () -> store.latest(dir));
        assertTrue(e.getMessage().contains("model.safetensors: truncated"), e.getMessage());
    }
}
