package org.align4j.pipeline.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;

/** A checked pipeline file: every name resolved, every path known, nothing run yet. */
public final class PipelinePlan {

    /** Where the corpus comes from and how it is split and tokenised. */
    public static final class Data {
        /** The generator's name, or {@code null} when the corpus is read from {@link #trainFile}. */
        final String generator;
        /** {@code data.generate} without {@code name}. */
        final Settings generateSettings;
        /** The corpus file, or {@code null} when generated. */
        final Path trainFile;
        /** The dataset reader's name ({@code jsonl} for generated corpora). */
        final String format;
        final String field;
        final double validationFraction;
        final boolean skipMalformed;
        /** What the reader gets: {@code skip_malformed}, {@code field}, {@code require: [field]}. */
        final Settings readerSettings;
        final String tokenizerType;
        /** {@code data.tokenizer} without {@code type}. */
        final Settings tokenizerSettings;

        Data(String generator, Settings generateSettings, Path trainFile, String format, String field,
                double validationFraction, boolean skipMalformed, Settings readerSettings, String tokenizerType,
                Settings tokenizerSettings) {
            this.generator = generator;
            this.generateSettings = generateSettings;
            this.trainFile = trainFile;
            this.format = format;
            this.field = field;
            this.validationFraction = validationFraction;
            this.skipMalformed = skipMalformed;
            this.readerSettings = readerSettings;
            this.tokenizerType = tokenizerType;
            this.tokenizerSettings = tokenizerSettings;
        }
    }

    /** A stage's own data ({@code stages[i].data}): typed examples in one of TRL's formats. */
    public static final class StageData {
        /** The generator's name, or {@code null} when the examples are read from {@link #file}. */
        final String generator;
        /** {@code generate} without {@code name}. */
        final Settings generateSettings;
        /** The JSONL file, or {@code null} when generated (then written under the run's {@code data/}). */
        final Path file;
        /** A TRL format name, or {@code auto} to detect it from the first record. */
        final String format;
        final double validationFraction;
        final boolean skipMalformed;
        /** The section as written (what the trainer sees as {@code data()}). */
        final Settings section;
        /** With {@code from: stage-N}: N, else -1. */
        final int fromStage;
        /** With {@code from}: the file inside that stage's output folder. */
        final Path fromFile;
        /**
         * {@code validation_file}: held-out examples from a file of their own instead of a split (with {@code from},
         * or with {@code validation_from}, inside that stage's output folder; otherwise a path; also with generated
         * examples), read in its own format unless the section names one; {@code null} to split.
         */
        Path validationFile;
        /**
         * {@code validation_from: stage-K}: K, the earlier stage whose output folder holds {@link #validationFile}
         * (else -1: the folder of {@code from}, or a path). A chain of rounds keeps one held-out set this way.
         */
        int validationFromStage = -1;

        StageData(String generator, Settings generateSettings, Path file, String format, double validationFraction,
                boolean skipMalformed, Settings section) {
            this(generator, generateSettings, file, format, validationFraction, skipMalformed, section, -1, null);
        }

        StageData(String generator, Settings generateSettings, Path file, String format, double validationFraction,
                boolean skipMalformed, Settings section, int fromStage, Path fromFile) {
            this.fromStage = fromStage;
            this.fromFile = fromFile;
            this.generator = generator;
            this.generateSettings = generateSettings;
            this.file = file;
            this.format = format;
            this.validationFraction = validationFraction;
            this.skipMalformed = skipMalformed;
            this.section = section;
        }
    }

    /** One stage: its trainer and the configuration that wires it. */
    public static final class Stage {
        final int index;
        final TrainerInfo trainer;
        final Settings settings;
        final Path dir;
        /** The factory configuration's properties. */
        final Map<String, Object> configuration;
        /** The run's model section with the stage's own model keys over it. */
        final Settings model;
        /** The model folders the stage's models start from, by model name ({@code policy}, ...); may be empty. */
        final Map<String, Path> init;
        /** The stage's own data, or {@code null} for the run's. */
        final StageData data;

        Stage(int index, TrainerInfo trainer, Settings settings, Path dir, Map<String, Object> configuration,
                Settings model, Map<String, Path> init, StageData data) {
            this.index = index;
            this.trainer = trainer;
            this.settings = settings;
            this.dir = dir;
            this.configuration = Map.copyOf(configuration);
            this.model = model;
            this.init = Map.copyOf(init);
            this.data = data;
        }

        /** {@code <index>:<trainer>} */
        public String label() {
            return index + ":" + trainer.name();
        }

        public int index() {
            return index;
        }

        public TrainerInfo trainerInfo() {
            return trainer;
        }

        public Map<String, Object> configuration() {
            return configuration;
        }

        public Path dir() {
            return dir;
        }

        /** The folder of the final model this stage writes ({@code <dir>/model}). */
        public Path output() {
            return dir.resolve("model");
        }
    }

    final Settings root;
    final String name;
    final Path workDir;
    final long seed;
    final Settings model;
    /** The {@code data:} section as written (what {@code TrainingContext.data()} returns). */
    final Settings dataSettings;
    final Data data;
    final List<Stage> stages;

    PipelinePlan(Settings root, String name, Path workDir, long seed, Settings model, Settings dataSettings, Data data,
            List<Stage> stages) {
        this.root = root;
        this.name = name;
        this.workDir = workDir;
        this.seed = seed;
        this.model = model;
        this.dataSettings = dataSettings;
        this.data = data;
        this.stages = List.copyOf(stages);
    }

    public String name() {
        return name;
    }

    public Path workDir() {
        return workDir;
    }

    public long seed() {
        return seed;
    }

    public String source() {
        return root.source();
    }

    public List<Stage> stages() {
        return stages;
    }
}
