package org.align4j.pipeline.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.Example;
import org.align4j.api.data.Examples;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.data.StructuredDatasets;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.PipelineRunner.RunReport;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.train.TrainingResult;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Runs a checked {@link PipelinePlan}: data, tokenizer, then each stage through its configured trainer, in the
 * calling thread.
 *
 * <p>Events it publishes itself: {@code RUN_STARTED} (message: the pipeline file), {@code MESSAGE}s about data,
 * skipped lines, tokenizer and each stage's trainer, and at the end {@code RUN_FINISHED}, or {@code RUN_FAILED}
 * with {@code stopped: <reason>...} or {@code <part>: <error>}. Stage events ({@code STAGE_STARTED},
 * {@code STEP}, ... {@code STAGE_FINISHED}) are the trainer's: only it knows the step it resumes from.
 *
 * <p>Files under the run's directory: {@code pipeline.json} (the file as run: overrides applied, variables
 * resolved), {@code data/corpus.jsonl} (a generated corpus), {@code tokenizer.json} (trained once, reused on resume),
 * {@code stage-<i>-<trainer>/} (each stage's own directory).
 */
public final class PipelineRun {
    /** Counters every run summary holds. */
    public static final String SKIPPED_LINES = "skipped_lines";
    public static final String DOCUMENTS = "documents";
    public static final String TRAIN_DOCUMENTS = "train_documents";
    public static final String VALIDATION_DOCUMENTS = "validation_documents";
    public static final String VOCAB_SIZE = "vocab_size";

    private static final long PROGRESS_EVERY_MILLIS = 2000;

    private final PipelinePlan plan;
    private final Plugins plugins;
    private final Trainers trainers;
    private final EventBus bus;
    private final RunState state;
    private final Duration pluginWait;
    private final Duration trainerWait;
    private final LongSupplier clock;
    private final ObjectMapper json = new ObjectMapper();

    public PipelineRun(PipelinePlan plan, Plugins plugins, Trainers trainers, EventBus bus, RunState state,
            Duration pluginWait, Duration trainerWait, LongSupplier clock) {
        this.plan = plan;
        this.plugins = plugins;
        this.trainers = trainers;
        this.bus = bus;
        this.state = state;
        this.pluginWait = pluginWait;
        this.trainerWait = trainerWait;
        this.clock = clock;
    }

    /**
     * @throws RunFailure naming the part that failed, with what it threw as the cause
     */
    public RunOutcome execute() throws RunFailure {
        long start = clock.getAsLong();
        String part = "setup";
        List<TrainingResult> results = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        try {
            Files.createDirectories(plan.workDir);
            AtomicFiles.write(plan.workDir.resolve("pipeline.json"),
                    w -> json.writer(SerializationFeature.INDENT_OUTPUT).writeValue(w, plan.root.asMap()));
            state.set(SKIPPED_LINES, 0);
            publish(run(TrainingEvent.Kind.RUN_STARTED).message(plan.source()));

            part = "data";
            List<Record> records = readData();
            TextDatasets datasets = plugins.service(TextDatasets.class, pluginWait).orElseThrow(
                    () -> new IllegalStateException("no TextDatasets service is registered; install the align4j"
                            + " data bundle"));
            TextDatasets.Split<Record> split = datasets.split(records, plan.data.validationFraction, plan.seed);
            state.set(DOCUMENTS, records.size());
            state.set(TRAIN_DOCUMENTS, split.train().size());
            state.set(VALIDATION_DOCUMENTS, split.validation().size());
            message("data: " + records.size() + " documents (train " + split.train().size() + ", validation "
                    + split.validation().size() + ")");

            part = "tokenizer";
            if (stopBefore(part, results, labels)) {
                return outcome(results, labels, start);
            }
            Tokenizer tokenizer = tokenizer(split.train());
            state.set(VOCAB_SIZE, tokenizer.vocabSize());

            for (PipelinePlan.Stage stage : plan.stages) {
                part = stage.label();
                if (stopBefore(part, results, labels)) {
                    break;
                }
                TrainingResult r = runStage(stage, tokenizer, split, results);
                results.add(r);
                labels.add(stage.label());
                if (r.status() == TrainingResult.Status.STOPPED) {
                    break;
                }
            }
            return outcome(results, labels, start);
        } catch (Exception | LinkageError e) {
            publish(run(TrainingEvent.Kind.RUN_FAILED).message(part + ": " + Texts.message(e)));
            throw new RunFailure(plan.name, part, e);
        }
    }

    private RunOutcome outcome(List<TrainingResult> results, List<String> labels, long start) {
        RunReport report = new RunReport(plan.name, plan.workDir, results, state.counters());
        RunOutcome outcome = new RunOutcome(plan.source(), report, labels, state.stopReason(),
                clock.getAsLong() - start);
        if (outcome.stopped()) {
            publish(run(TrainingEvent.Kind.RUN_FAILED).message("stopped: " + state.stopReason()
                    + "; run the same pipeline again to resume"));
        } else {
            publish(run(TrainingEvent.Kind.RUN_FINISHED).message("completed " + results.size()
                    + (results.size() == 1 ? " stage" : " stages")));
        }
        return outcome;
    }

    /** When a stop was asked for before {@code part} starts, records it as stopped at step 0 and says so. */
    private boolean stopBefore(String part, List<TrainingResult> results, List<String> labels) {
        if (!state.stopRequested()) {
            return false;
        }
        PipelinePlan.Stage next = null;
        for (PipelinePlan.Stage s : plan.stages) {
            if (!labels.contains(s.label())) {
                next = s;
                break;
            }
        }
        if (next != null) {
            results.add(new TrainingResult(TrainingResult.Status.STOPPED, 0, Map.of(), List.of(), null));
            labels.add(next.label());
        }
        message("stopped before " + part + ": " + state.stopReason());
        return true;
    }

    private List<Record> readData() throws Exception {
        PipelinePlan.Data d = plan.data;
        Path file = d.trainFile;
        if (d.generator != null) {
            CorpusGenerator generator = plugins.get(PluginKind.GENERATOR, d.generator, CorpusGenerator.class);
            List<String> docs = generator.generate(d.generateSettings, plan.seed);
            file = plan.workDir.resolve("data").resolve("corpus.jsonl");
            writeCorpus(file, docs, d.field);
            message("generated " + docs.size() + " documents with " + d.generator + " (seed " + plan.seed + ") into "
                    + file);
        }
        DatasetReader reader = plugins.get(PluginKind.READER, d.format, DatasetReader.class);
        ReadResult read = reader.read(file, d.readerSettings);
        Set<String> shown = new LinkedHashSet<>(read.skipped());
        for (String s : shown) {
            message("skipped " + s);
        }
        state.set(SKIPPED_LINES, read.skipped().size());
        if (read.records().isEmpty()) {
            throw new DataException(file.toString(), 0, "no documents to train on" + (read.skipped().isEmpty() ? ""
                    : " (all " + read.skipped().size() + " lines were malformed and skipped)"));
        }
        for (Record r : read.records()) {
            r.text(d.field); // every document has its text: fails with file:line otherwise
        }
        return read.records();
    }

    private void writeCorpus(Path file, List<String> docs, String field) throws java.io.IOException {
        AtomicFiles.write(file, w -> {
            for (int i = 0; i < docs.size(); i++) {
                String doc = docs.get(i);
                if (doc == null) {
                    throw new IllegalStateException("corpus generator " + plan.data.generator + " produced null as"
                            + " document " + i);
                }
                w.write(json.writeValueAsString(Map.of(field, doc)));
                w.write('\n');
            }
        });
    }

    private Tokenizer tokenizer(List<Record> train) throws Exception {
        PipelinePlan.Data d = plan.data;
        TokenizerFactory factory = plugins.get(PluginKind.TOKENIZER, d.tokenizerType, TokenizerFactory.class);
        Path file = plan.workDir.resolve("tokenizer.json");
        if (Files.exists(file)) {
            Tokenizer t = factory.load(file, w -> message("warning: " + w));
            if (!d.tokenizerType.equals(t.type())) {
                throw new IllegalStateException(file + " holds a " + t.type() + " tokenizer, but data.tokenizer.type"
                        + " is " + d.tokenizerType + "; delete the file to train a new one (the run's checkpoints"
                        + " were made with the old one) or set the type back");
            }
            message("tokenizer: reusing " + file + " (" + t.type() + ", vocab " + t.vocabSize() + ")");
            return t;
        }
        List<String> texts = new ArrayList<>(train.size());
        for (Record r : train) {
            texts.add(r.text(d.field));
        }
        String what = "tokenizer " + d.tokenizerType + (d.tokenizerSettings.has("vocab")
                ? " (vocab " + d.tokenizerSettings.getString("vocab") + ")" : "");
        message("training " + what + " on " + texts.size() + " train documents");
        long t0 = clock.getAsLong();
        long[] last = {t0};
        Tokenizer t = factory.train(texts, d.tokenizerSettings, done -> {
            long now = clock.getAsLong();
            if (now - last[0] >= PROGRESS_EVERY_MILLIS) {
                last[0] = now;
                message(what + ": " + done + " merges after " + Texts.duration(now - t0));
            }
        });
        t.save(file);
        message("trained " + what + " in " + Texts.duration(clock.getAsLong() - t0) + ": vocab " + t.vocabSize()
                + ", saved to " + file);
        return t;
    }

    /**
     * The stage's own examples: generated into {@code <run>/data/stage-<i>.jsonl} (or read from its file), read in
     * their TRL format, split with the run's seed.
     */
    private TextDatasets.Split<Example> stageExamples(PipelinePlan.Stage stage, List<TrainingResult> earlier)
            throws Exception {
        PipelinePlan.StageData d = stage.data;
        Path file = d.file;
        if (d.fromStage >= 0) {
            Path out = d.fromStage < earlier.size() ? earlier.get(d.fromStage).output() : null;
            if (out == null) {
                throw new IllegalStateException(d.section.source() + ": " + d.section.path() + ".from: stage "
                        + d.fromStage + " has no output folder to read " + d.fromFile + " from");
            }
            file = out.resolve(d.fromFile);
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(d.section.source() + ": " + d.section.path() + ".file: stage "
                        + d.fromStage + " wrote no " + d.fromFile + " (looked for " + file + ")");
            }
        }
        long seed = plan.seed + 1000L * (stage.index + 1); // a stream of its own, the same on every run
        if (d.generator != null) {
            CorpusGenerator generator = plugins.get(PluginKind.GENERATOR, d.generator, CorpusGenerator.class);
            List<Map<String, Object>> records = generator.records(d.generateSettings, seed);
            file = plan.workDir.resolve("data").resolve("stage-" + stage.index + ".jsonl");
            AtomicFiles.write(file, w -> {
                for (Map<String, Object> r : records) {
                    w.write(json.writeValueAsString(r));
                    w.write('\n');
                }
            });
            message("generated " + records.size() + " examples with " + d.generator + " (seed " + seed + ") into "
                    + file);
        }
        StructuredDatasets reader = plugins.service(StructuredDatasets.class, pluginWait).orElseThrow(
                () -> new IllegalStateException("no StructuredDatasets service is registered; install the align4j"
                        + " data bundle"));
        DatasetFormat named = d.format.equals("auto") ? null : DatasetFormat.byName(d.format); // null: detected
        Examples read = reader.read(file, named, d.skipMalformed);
        for (String w : read.warnings()) {
            message("warning: " + w);
        }
        for (String s : read.skipped()) {
            message("skipped " + s);
        }
        state.count(SKIPPED_LINES, read.skipped().size());
        TextDatasets datasets = plugins.service(TextDatasets.class, pluginWait).orElseThrow(
                () -> new IllegalStateException("no TextDatasets service is registered; install the align4j"
                        + " data bundle"));
        TextDatasets.Split<Example> split;
        if (d.validationFile != null) {
            int heldStage = d.validationFromStage >= 0 ? d.validationFromStage : d.fromStage;
            Path heldDir = heldStage >= 0 && heldStage < earlier.size() ? earlier.get(heldStage).output() : null;
            if (heldStage >= 0 && heldDir == null) {
                throw new IllegalStateException(d.section.source() + ": " + d.section.path() + ".validation_file: "
                        + "stage " + heldStage + " has no output folder to read " + d.validationFile + " from");
            }
            Path held = heldStage >= 0 ? heldDir.resolve(d.validationFile) : d.validationFile;
            if (!Files.isRegularFile(held)) {
                throw new IllegalStateException(d.section.source() + ": " + d.section.path() + ".validation_file: "
                        + "no such file: " + held);
            }
            // in its own format unless the section names one: a stage that reads only prompts (ppo) may train on
            // generated questions and hold out the prompts of an earlier stage's pairs
            Examples heldOut = reader.read(held, named, d.skipMalformed);
            heldOut.warnings().forEach(w -> message("warning: " + w));
            heldOut.skipped().forEach(x -> message("skipped " + x));
            state.count(SKIPPED_LINES, heldOut.skipped().size());
            // the training examples in a seeded order, as a split would give them
            split = new TextDatasets.Split<>(datasets.shuffle(read.examples(), seed), heldOut.examples());
            message("stage " + stage.label() + " held-out data: " + heldOut.examples().size() + " examples from "
                    + held);
        } else {
            split = datasets.split(read.examples(), d.validationFraction, seed);
        }
        message("stage " + stage.label() + " data: " + read.examples().size() + " " + read.format().trlName()
                + " examples from " + file + " (train " + split.train().size() + ", validation "
                + split.validation().size() + ")");
        return split;
    }

    private TrainingResult runStage(PipelinePlan.Stage stage, Tokenizer tokenizer, TextDatasets.Split<Record> split,
            List<TrainingResult> earlier) throws Exception {
        Files.createDirectories(stage.dir);
        message("stage " + stage.label() + ": trainer " + stage.trainer + " in " + stage.dir);
        String configName = plan.name + "-" + stage.index;
        TrainingResult result;
        boolean[] running = {true};
        try (Trainers.Stage s = trainers.start(stage.trainer, configName, stage.configuration, trainerWait, why -> {
            if (running[0]) {
                state.requestStop(why != null ? why : "the trainer of stage " + stage.label() + " went away (its"
                        + " bundle or a plugin it needs stopped)");
            }
        })) {
            StageContext context = new StageContext(plan.name, stage.label(), stage.dir, plan.workDir,
                    stage.settings, stage.model != null ? stage.model : plan.model,
                    stage.data != null ? stage.data.section : plan.dataSettings, plan.seed, tokenizer,
                    stage.data != null ? List.of() : split.train(), stage.data != null ? List.of() : split.validation(),
                    bus, state).init(stage.init);
            if (stage.data != null) {
                TextDatasets.Split<Example> examples = stageExamples(stage, earlier);
                context.examples(examples.train(), examples.validation());
            }
            try {
                result = s.trainer().train(context);
            } finally {
                running[0] = false; // deleting the configuration next unregisters the trainer: that is no stop
            }
            if (result != null && result.status() == TrainingResult.Status.STOPPED && !state.stopRequested()) {
                // the trainer stopped by itself (e.g. its component was deactivated): the run stops with it
                String why = s.stopCause();
                state.requestStop(why != null ? why : "trainer " + stage.trainer + " stopped stage " + stage.label()
                        + " by itself (its messages above say why)");
            }
        }
        if (result == null) {
            throw new IllegalStateException("trainer " + stage.trainer + " returned no result");
        }
        return result;
    }

    private TrainingEvent.Builder run(TrainingEvent.Kind kind) {
        return TrainingEvent.builder(kind, plan.name).workDir(plan.workDir).time(clock.getAsLong());
    }

    private void message(String text) {
        publish(run(TrainingEvent.Kind.MESSAGE).message(text));
    }

    private void publish(TrainingEvent.Builder b) {
        bus.publish(b.build());
    }
}
