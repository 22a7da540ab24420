package org.align4j.feedback;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import org.align4j.api.data.Example;
import org.align4j.api.data.Record;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;

/** Stands in for the pipeline: records events; stops when {@link #stopWhen} says so. */
final class StubContext implements TrainingContext {
    final Path dir;
    final long seed;
    final Tokenizer tok;
    final Settings stage;
    final Path init;
    final List<Example> examples;
    final List<TrainingEvent> events = new ArrayList<>();
    /** Asked before each group of prompts, with the events so far. */
    Predicate<List<TrainingEvent>> stopWhen = e -> false;

    StubContext(Path dir, long seed, Tokenizer tok, Map<String, Object> stage, Path init, List<Example> examples) {
        this.dir = dir;
        this.seed = seed;
        this.tok = tok;
        this.stage = Settings.of("feedback.yaml", stage);
        this.init = init;
        this.examples = examples;
    }

    List<String> messages() {
        List<String> out = new ArrayList<>();
        for (TrainingEvent e : events) {
            if (e.kind() == TrainingEvent.Kind.MESSAGE) {
                out.add(e.message());
            }
        }
        return out;
    }

    @Override
    public String run() {
        return "test";
    }

    @Override
    public String stage() {
        return "2:feedback";
    }

    @Override
    public Path workDir() {
        return dir;
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
    public Optional<Path> init() {
        return Optional.ofNullable(init);
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public Tokenizer tokenizer() {
        return tok;
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
    public List<Example> trainExamples() {
        return examples;
    }

    @Override
    public TrainingEvent.Builder event(TrainingEvent.Kind kind) {
        return TrainingEvent.builder(kind, run()).stage(stage()).workDir(dir);
    }

    @Override
    public void publish(TrainingEvent event) {
        events.add(event);
    }

    @Override
    public boolean stopRequested() {
        return stopWhen.test(events);
    }

    @Override
    public String stopReason() {
        return stopRequested() ? "stop asked by the test" : "";
    }

    @Override
    public void count(String counter, long n) {
    }
}
