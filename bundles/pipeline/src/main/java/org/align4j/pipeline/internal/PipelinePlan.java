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

    /** One stage: its trainer and the configuration that wires it. */
    public static final class Stage {
        final int index;
        final TrainerInfo trainer;
        final Settings settings;
        final Path dir;
        /** The factory configuration's properties. */
        final Map<String, Object> configuration;

        Stage(int index, TrainerInfo trainer, Settings settings, Path dir, Map<String, Object> configuration) {
            this.index = index;
            this.trainer = trainer;
            this.settings = settings;
            this.dir = dir;
            this.configuration = Map.copyOf(configuration);
        }

        /** {@code <index>:<trainer>} */
        public String label() {
            return index + ":" + trainer.name();
        }

        public int index() {
            return index;
        }

        public Map<String, Object> configuration() {
            return configuration;
        }

        public Path dir() {
            return dir;
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
