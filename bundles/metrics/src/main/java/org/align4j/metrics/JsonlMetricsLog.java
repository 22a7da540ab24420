package org.align4j.metrics;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Appends every event of a run as one JSON object per line to {@code <workDir>/metrics.jsonl} (the run's directory
 * carried by the event), flushing each line, so the file can be followed while training and survives a crash up to
 * the last event. A resumed run appends to the same file.
 *
 * <pre>
 * {"time":1718000000000,"kind":"STEP","run":"tiny","stage":"0:pretrain","step":10,"total_steps":2000,
 *  "metrics":{"loss":4.1,"learning_rate":3.0E-5},"message":""}
 * </pre>
 * An event with labels (a PPO step names its reward model) carries them after the metrics, as
 * {@code "labels":{"reward_model":"rm 2"}}. Non-finite metric values are written as the strings {@code "NaN"},
 * {@code "Infinity"}, {@code "-Infinity"} so every line stays valid JSON.
 */
@Component(service = TrainingListener.class)
public final class JsonlMetricsLog implements TrainingListener {
    /** The file name under the run's directory. */
    public static final String FILE = "metrics.jsonl";

    private final ObjectMapper json = new ObjectMapper();
    private final RunFiles<Writer> files = new RunFiles<>(FILE);

    @Override
    public synchronized void onEvent(TrainingEvent event) {
        Path dir = event.workDir();
        if (dir == null) {
            return;
        }
        Path file = dir.resolve(FILE);
        try {
            Writer w = files.get(event.run(), file, f -> {
                Files.createDirectories(dir);
                return Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            });
            w.write(line(event));
            w.write('\n');
            w.flush();
        } catch (IOException e) {
            files.failed(event.run(), file, e);
            return;
        }
        if (event.kind() == TrainingEvent.Kind.RUN_FINISHED || event.kind() == TrainingEvent.Kind.RUN_FAILED) {
            files.close(event.run(), file);
        }
    }

    /** The JSON object of {@code event}, on one line. */
    String line(TrainingEvent event) throws JsonProcessingException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", event.timeMillis());
        m.put("kind", event.kind().name());
        m.put("run", event.run());
        m.put("stage", event.stage());
        m.put("step", event.step());
        m.put("total_steps", event.totalSteps());
        m.put("metrics", event.metrics());
        if (!event.labels().isEmpty()) {
            m.put("labels", event.labels());
        }
        m.put("message", event.message());
        return json.writeValueAsString(m);
    }

    @Deactivate
    synchronized void deactivate() {
        files.closeAll();
    }

    /** How many runs have a file open (for tests). */
    synchronized int openFiles() {
        return files.size();
    }
}
