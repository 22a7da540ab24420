package org.align4j.training;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.Record;
import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;

/**
 * Stands in for the pipeline: a stage directory, a seed, a stage's settings and a tokenizer, recording every
 * published event. {@link #stopAfter} turns {@link #stopRequested()} true once that many STEP events were published.
 */
final class TestContext implements TrainingContext {
    final Path workDir;
    final long seed;
    final Settings stage;
    final List<TrainingEvent> events = new ArrayList<>();
    long stopAfter = Long.MAX_VALUE;
    /** The stage's {@code init:} folder, or null. */
    Path init;

    TestContext(Path workDir, long seed, Map<String, Object> stage) {
        this.workDir = workDir;
        this.seed = seed;
        this.stage = Settings.of("test-pipeline.yaml", stage);
    }

    @Override
    public String run() {
        return "test";
    }

    @Override
    public String stage() {
        return "0:test";
    }

    @Override
    public Path workDir() {
        return workDir;
    }

    @Override
    public Settings settings() {
        return stage;
    }

    @Override
    public Settings model() {
        return stage.section("model");
    }

    @Override
    public Settings data() {
        return stage.section("data");
    }

    @Override
    public java.util.Optional<Path> init() {
        return java.util.Optional.ofNullable(init);
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public Tokenizer tokenizer() {
        return new CharTokenizer();
    }

    @Override
    public List<Record> train() {
        return List.of();
    }

    @Override
    public List<Record> validation() {
        return List.of();
    }

    @Override
    public TrainingEvent.Builder event(TrainingEvent.Kind kind) {
        return TrainingEvent.builder(kind, run()).stage(stage()).workDir(workDir);
    }

    @Override
    public void publish(TrainingEvent event) {
        events.add(event);
    }

    @Override
    public boolean stopRequested() {
        return steps().size() >= stopAfter;
    }

    @Override
    public String stopReason() {
        return stopRequested() ? "the test asked to stop" : "";
    }

    @Override
    public void count(String counter, long n) {
    }

    /** The STEP events' losses by (1-based) step. */
    Map<Long, Double> steps() {
        Map<Long, Double> out = new LinkedHashMap<>();
        for (TrainingEvent e : events) {
            if (e.kind() == TrainingEvent.Kind.STEP) {
                out.put(e.step(), e.metrics().get(MetricNames.LOSS));
            }
        }
        return out;
    }

    List<TrainingEvent> of(TrainingEvent.Kind kind) {
        List<TrainingEvent> out = new ArrayList<>();
        for (TrainingEvent e : events) {
            if (e.kind() == kind) {
                out.add(e);
            }
        }
        return out;
    }

    /** A tokenizer the loop only saves next to a model: one id per character code modulo 20. */
    static final class CharTokenizer implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return text.chars().map(c -> c % 20).toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) {
                b.append((char) ('a' + id));
            }
            return b.toString();
        }

        @Override
        public int vocabSize() {
            return 20;
        }

        @Override
        public int eosId() {
            return 0;
        }

        @Override
        public int padId() {
            return 0;
        }

        @Override
        public String type() {
            return "test";
        }

        @Override
        public void save(Path file) throws IOException {
            Files.write(file, "{\"type\": \"test\"}".getBytes(StandardCharsets.UTF_8));
        }
    }
}
