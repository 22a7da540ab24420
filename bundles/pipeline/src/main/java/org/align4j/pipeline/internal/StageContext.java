package org.align4j.pipeline.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.align4j.api.data.Example;
import org.align4j.api.data.Record;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;

/** The {@link TrainingContext} of one stage. */
final class StageContext implements TrainingContext {
    private final String run;
    private final String stage;
    private final Path stageDir;
    private final Path runDir;
    private final Settings settings;
    private final Settings model;
    private final Settings data;
    private final long seed;
    private final Tokenizer tokenizer;
    private final List<Record> train;
    private final List<Record> validation;
    private final EventBus bus;
    private final RunState state;
    private Map<String, Path> init = Map.of();
    private List<Example> trainExamples = List.of();
    private List<Example> validationExamples = List.of();

    StageContext(String run, String stage, Path stageDir, Path runDir, Settings settings, Settings model, Settings data,
            long seed,
            Tokenizer tokenizer, List<Record> train, List<Record> validation, EventBus bus, RunState state) {
        this.run = run;
        this.stage = stage;
        this.stageDir = stageDir;
        this.runDir = runDir;
        this.settings = settings;
        this.model = model;
        this.data = data;
        this.seed = seed;
        this.tokenizer = tokenizer;
        this.train = train;
        this.validation = validation;
        this.bus = bus;
        this.state = state;
    }

    @Override
    public String run() {
        return run;
    }

    @Override
    public String stage() {
        return stage;
    }

    @Override
    public Path workDir() {
        return stageDir;
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Settings model() {
        return model;
    }

    @Override
    public Settings data() {
        return data;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public List<Record> train() {
        return train;
    }

    @Override
    public List<Record> validation() {
        return validation;
    }

    /** The stage's models start from these model folders (by model name; the others from the seed). */
    StageContext init(Map<String, Path> folders) {
        this.init = Map.copyOf(folders);
        return this;
    }

    /** The stage's typed examples, split. */
    StageContext examples(List<Example> train, List<Example> validation) {
        this.trainExamples = List.copyOf(train);
        this.validationExamples = List.copyOf(validation);
        return this;
    }

    @Override
    public Optional<Path> init() {
        return init("policy");
    }

    @Override
    public Optional<Path> init(String model) {
        return Optional.ofNullable(init.get(model));
    }

    @Override
    public List<Example> trainExamples() {
        return trainExamples;
    }

    @Override
    public List<Example> validationExamples() {
        return validationExamples;
    }

    /** Events carry the run's directory (where sinks such as metrics.jsonl write), not the stage's. */
    @Override
    public TrainingEvent.Builder event(TrainingEvent.Kind kind) {
        return TrainingEvent.builder(kind, run).stage(stage).workDir(runDir);
    }

    @Override
    public void publish(TrainingEvent event) {
        bus.publish(event);
    }

    @Override
    public boolean stopRequested() {
        return state.stopRequested();
    }

    @Override
    public String stopReason() {
        return state.stopReason();
    }

    @Override
    public void count(String counter, long n) {
        state.count(counter, n);
    }
}
