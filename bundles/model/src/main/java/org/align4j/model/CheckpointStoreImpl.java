package org.align4j.model;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.osgi.service.component.annotations.Component;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Checkpoints as directories {@code <dir>/checkpoint-<step>/} holding
 * <ul>
 * <li>{@code model.safetensors}: every tensor of the checkpoint (model and optimizer state) by name, metadata
 * {@code step};</li>
 * <li>{@code state.json}: {@code {"step": 12, "state": {string: string}}};</li>
 * <li>{@code config.json}: the model's shape, as {@link SafetensorsWeightStore#saveConfig} writes it.</li>
 * </ul>
 * A checkpoint is written whole into {@code <dir>/.checkpoint-<step>.tmp-<random>/} and renamed into place with one
 * atomic move, so a directory named {@code checkpoint-<step>} is complete unless someone changed it by hand. Only
 * directories named exactly {@code checkpoint-<decimal step>} holding all three files count; leftovers of an
 * interrupted save (hidden {@code .checkpoint-*} directories) and incomplete directories are ignored and never
 * deleted.
 *
 * <p>Saving a step that already exists moves the old directory aside ({@code .checkpoint-<step>.old-<random>}), moves
 * the new one in, then deletes the old one: a crash between the two moves leaves that step only in the hidden copy
 * (the other checkpoints are untouched). Pruning keeps the checkpoint just saved and the newest {@code keep - 1} other
 * ones, renaming each doomed directory to a hidden name before deleting it.
 */
@Component(service = CheckpointStore.class)
public final class CheckpointStoreImpl implements CheckpointStore {

    static final String WEIGHTS = "model.safetensors";
    static final String STATE = "state.json";
    static final String CONFIG = "config.json";
    private static final Pattern NAME = Pattern.compile("checkpoint-(0|[1-9][0-9]{0,18})");

    private final SafetensorsWeightStore weights = new SafetensorsWeightStore();
    private final ObjectMapper json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    @Override
    public Path save(Path dir, Checkpoint checkpoint, ModelConfig config, int keep) throws IOException {
        long step = checkpoint.step();
        if (step < 0) {
            throw new IllegalArgumentException(dir + ": checkpoint step must be >= 0, got " + step);
        }
        if (keep < 1) {
            throw new IllegalArgumentException(dir + ": keep must be >= 1 (the checkpoint just written is kept),"
                    + " got " + keep);
        }
        Files.createDirectories(dir);
        Path target = dir.resolve("checkpoint-" + step);
        Path tmp = dir.resolve(".checkpoint-" + step + ".tmp-" + AtomicFiles.randomSuffix());
        Files.createDirectory(tmp);
        try {
            weights.save(tmp.resolve(WEIGHTS), checkpoint.tensors(), Map.of("step", Long.toString(step)));
            weights.saveConfig(tmp.resolve(CONFIG), config);
            ObjectNode state = json.createObjectNode();
            state.put("step", step);
            ObjectNode values = state.putObject("state");
            new TreeMap<>(checkpoint.state()).forEach(values::put);
            AtomicFiles.write(tmp.resolve(STATE), json.writer(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(state));
            AtomicFiles.syncDirectory(tmp);

            Path old = null;
            if (Files.exists(target)) {
                old = dir.resolve(".checkpoint-" + step + ".old-" + AtomicFiles.randomSuffix());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(dir);
            if (old != null) {
                AtomicFiles.deleteTree(old);
            }
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.deleteTree(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        prune(dir, step, keep);
        return target;
    }

    /** Deletes all complete checkpoints but {@code saved} and the newest {@code keep - 1} others. */
    private void prune(Path dir, long saved, int keep) throws IOException {
        List<Long> others = new ArrayList<>(steps(dir));
        others.remove(Long.valueOf(saved));
        Collections.reverse(others); // newest first
        for (Long step : others.subList(Math.min(keep - 1, others.size()), others.size())) {
            Path doomed = dir.resolve(".checkpoint-" + step + ".del-" + AtomicFiles.randomSuffix());
            Files.move(dir.resolve("checkpoint-" + step), doomed, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.deleteTree(doomed);
        }
    }

    @Override
    public Optional<Checkpoint> latest(Path dir) throws IOException {
        List<Long> steps = steps(dir);
        if (steps.isEmpty()) {
            return Optional.empty();
        }
        long step = steps.get(steps.size() - 1);
        Path location = dir.resolve("checkpoint-" + step);
        Map<String, String> state = readState(location.resolve(STATE), step);
        return Optional.of(new Checkpoint(step, weights.load(location.resolve(WEIGHTS)).tensors(), state, location));
    }

    @Override
    public List<Long> steps(Path dir) throws IOException {
        List<Long> steps = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return steps;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Matcher m = NAME.matcher(entry.getFileName().toString());
                if (m.matches() && Files.isDirectory(entry) && complete(entry)) {
                    try {
                        steps.add(Long.parseLong(m.group(1)));
                    } catch (NumberFormatException e) {
                        // more than a long: not ours
                    }
                }
            }
        }
        Collections.sort(steps);
        return steps;
    }

    private static boolean complete(Path checkpoint) {
        return Files.isRegularFile(checkpoint.resolve(WEIGHTS)) && Files.isRegularFile(checkpoint.resolve(STATE))
                && Files.isRegularFile(checkpoint.resolve(CONFIG));
    }

    private Map<String, String> readState(Path file, long step) throws IOException {
        JsonNode root;
        try {
            root = json.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage()
                    + "; delete this checkpoint directory to resume from the previous one");
        }
        if (root == null || !root.isObject() || !root.path("step").isIntegralNumber()
                || !root.path("state").isObject()) {
            throw new IOException(file + ": expected {\"step\": <integer>, \"state\": {...}}; delete this checkpoint"
                    + " directory to resume from the previous one");
        }
        if (root.get("step").longValue() != step) {
            throw new IOException(file + ": says step " + root.get("step") + " but its directory is checkpoint-"
                    + step);
        }
        Map<String, String> state = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("state").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new IOException(file + ": state \"" + e.getKey() + "\": expected a string, got " + e.getValue());
            }
            state.put(e.getKey(), e.getValue().textValue());
        }
        return state;
    }
}
