package org.align4j.pipeline.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.Trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Checks a whole pipeline file before anything runs: unknown keys, missing values, files, and every plugin name
 * against what is registered (waiting a little for plugins that are still starting). The result is a
 * {@link PipelinePlan}.
 *
 * <p>The schema (relative paths are resolved against the working directory):
 * <pre>
 * run:                      optional section; keys name, workdir, seed only
 *   name: tiny              default: the file name without extension; [A-Za-z0-9][A-Za-z0-9._-]{0,99}
 *   workdir: runs/tiny      default: runs/&lt;name&gt;
 *   seed: 7                 default: 42
 * model: {...}              ModelConfig's keys (checked now with ModelConfig.from); attention: an AttentionKernel
 *                           name, default: the init model's kernel, else the highest-ranked one that supports the
 *                           model (see defaultKernel)
 * data:                     keys generate, train, format, field, validation_fraction, skip_malformed, tokenizer,
 *                           reader only
 *   generate: { name: arithmetic, count: 20000, ... }   a CorpusGenerator name (or generate: arithmetic); the
 *                           generator gets the section without name; exactly one of generate and train
 *   train: data/corpus.jsonl   a file that exists
 *   format: jsonl           train only; default by extension: .jsonl is jsonl, anything else text
 *   field: text             default text
 *   validation_fraction: 0.05  default 0.05, in [0, 0.9]
 *   skip_malformed: false   default false
 *   reader: {...}           the dataset reader's own keys (e.g. split: paragraph for text)
 *   tokenizer: { type: bpe, vocab: 512 }   type (or name, or tokenizer: bpe) default bpe, a TokenizerFactory
 *                           name; the factory gets the section without type
 * stages:                   a list of at least one section; a stage's own keys are its trainer's to check
 *   - trainer: pretrain     required; a trainer component (Declarative Services) named so
 *     loss: causal-lm       a loss service name (or loss: { name: ..., ... }); required when the trainer has a
 *                           loss reference, and of the reference's type
 *     optimizer: { name: adamw, schedule: cosine, ... }   name required when the trainer has an optimizer
 *                           reference; schedule default cosine; both plugins validate() the section now
 *     reward: judge         a RewardModel name (or a section with name); required when the trainer's reward
 *                           reference is mandatory
 * </pre>
 */
public final class PipelineValidator {
    static final String[] TOP = {"run", "model", "data", "stages"};
    static final String[] RUN = {"name", "workdir", "seed"};
    static final String[] DATA = {"generate", "train", "format", "field", "validation_fraction", "skip_malformed",
        "tokenizer", "reader"};
    static final String[] STAGE_DATA = {"generate", "train", "from", "file", "validation_file", "validation_from",
        "format", "validation_fraction", "skip_malformed"};
    static final long DEFAULT_SEED = 42;
    static final double DEFAULT_VALIDATION_FRACTION = 0.05;
    static final String DEFAULT_TOKENIZER = "bpe";
    static final String DEFAULT_SCHEDULE = "cosine";
    static final String DEFAULT_ATTENTION = "mha";
    private static final Pattern RUN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    private final Plugins plugins;
    private final Trainers trainers;
    private final Duration wait;
    private final Path baseDir;

    /**
     * @param wait how long to wait for a named plugin that is not registered yet
     * @param baseDir what relative paths ({@code run.workdir}, {@code data.train}) are resolved against
     */
    public PipelineValidator(Plugins plugins, Trainers trainers, Duration wait, Path baseDir) {
        this.plugins = plugins;
        this.trainers = trainers;
        this.wait = wait;
        this.baseDir = baseDir;
    }

    public PipelinePlan validate(Settings root) {
        SettingsTrees.checkKnown(root, TOP);

        Settings run = root.section("run");
        SettingsTrees.checkKnown(run, RUN);
        String name = run.getString("name", defaultName(root.source()));
        if (!RUN_NAME.matcher(name).matches()) {
            throw run.error("name", "\"" + name + "\" is not a valid run name: use up to 100 letters, digits, '.',"
                    + " '_' and '-', starting with a letter or digit (it names the run's configurations and files)");
        }
        Path workDir = resolve(run.getString("workdir", "runs/" + name));
        long seed = run.getLong("seed", DEFAULT_SEED);

        Settings dataSection = root.section("data");
        SettingsTrees.checkKnown(dataSection, DATA);
        Settings tokenizer = dataSection.section("tokenizer");
        Settings model = root.section("model");
        checkModel(model, tokenizer);

        PipelinePlan.Data data = data(dataSection, tokenizer);

        List<Settings> stageSections = root.sections("stages");
        if (stageSections.isEmpty()) {
            throw root.error("stages", "missing (required): a pipeline needs at least one stage, e.g."
                    + " stages: [ { trainer: pretrain, loss: causal-lm, steps: 100 } ]");
        }
        List<PipelinePlan.Stage> stages = new ArrayList<>();
        for (int i = 0; i < stageSections.size(); i++) {
            stages.add(stage(i, stageSections.get(i), name, workDir, model, tokenizer, stages));
        }
        return new PipelinePlan(root, name, workDir, seed, model, dataSection, data, stages);
    }

    private static String defaultName(String source) {
        String file = Path.of(source).getFileName().toString();
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }

    private Path resolve(String path) {
        return baseDir.resolve(path).normalize();
    }

    private static void checkModel(Settings model, Settings tokenizer) {
        checkModel(model, tokenizer, model.asMap());
    }

    /** Checks {@code values} as a model section; errors name keys of {@code model} (where they were written). */
    private static void checkModel(Settings model, Settings tokenizer, Map<String, Object> values) {
        int vocab = tokenizer.has("vocab") ? Math.max(1, tokenizer.getInt("vocab")) : 256;
        try {
            ModelConfig.from(SettingsTrees.at(model.source(), model.path(), values), vocab);
        } catch (SettingsException e) {
            // ModelConfig reports its own checks as "model: model.heads: ..."; name the key itself
            String prefix = model.source() + ": " + model.path() + ": model.";
            if (e.getMessage().startsWith(prefix)) {
                String rest = e.getMessage().substring(prefix.length());
                int colon = rest.indexOf(": ");
                if (colon > 0) {
                    throw model.error(rest.substring(0, colon), rest.substring(colon + 2));
                }
            }
            throw e;
        } catch (IllegalArgumentException e) {
            throw model.error(null, Texts.message(e));
        }
    }

    private PipelinePlan.Data data(Settings data, Settings tokenizer) {
        boolean generate = data.has("generate");
        boolean train = data.has("train");
        if (generate == train) {
            throw data.error(null, generate
                    ? "set either generate or train, not both"
                    : "missing the corpus: set generate: { name: <generator>, count: N } or train: <file>");
        }
        String field = data.getString("field", "text");
        if (field.isBlank()) {
            throw data.error("field", "must not be empty (the JSON field that holds each document's text)");
        }
        double fraction = data.getDouble("validation_fraction", DEFAULT_VALIDATION_FRACTION, 0.0, 0.9);
        boolean skip = data.getBoolean("skip_malformed", false);

        String generator = null;
        Settings generateSettings = null;
        Path trainFile = null;
        String format;
        String formatKey;
        if (generate) {
            Settings g = data.section("generate");
            if (!g.has("name")) {
                throw g.error("name", "missing (required): the corpus generator to use (registered: "
                        + Texts.list(plugins.registered(PluginKind.GENERATOR)) + ")");
            }
            generator = g.getString("name");
            require(PluginKind.GENERATOR, generator, g, data.asMap().get("generate") instanceof Map ? "name" : null);
            generateSettings = SettingsTrees.without(g, "name");
            Settings checked = generateSettings;
            CorpusGenerator gen = plugins.get(PluginKind.GENERATOR, generator, CorpusGenerator.class);
            check(g, () -> gen.validate(checked));
            if (data.has("format")) {
                throw data.error("format", "applies to data.train only (a generated corpus is written as jsonl)");
            }
            format = "jsonl";
            formatKey = "generate";
        } else {
            String file = data.getString("train");
            trainFile = resolve(file);
            if (!Files.isRegularFile(trainFile)) {
                throw data.error("train", (Files.exists(trainFile) ? "not a regular file: " : "no such file: ")
                        + trainFile + (Path.of(file).isAbsolute() ? ""
                                : " (relative paths are resolved against " + baseDir + ")"));
            }
            if (data.has("format")) {
                format = data.getString("format");
                formatKey = "format";
            } else {
                format = trainFile.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl") ? "jsonl"
                        : "text";
                formatKey = "train";
            }
        }
        Optional<PluginInfo> reader = plugins.await(PluginKind.READER, format, wait);
        if (reader.isEmpty()) {
            String how = formatKey.equals("format") ? "" : formatKey.equals("train")
                    ? " (the format of " + data.getString("train") + " by its extension; set data.format to choose)"
                    : " (needed to read the generated corpus back)";
            throw data.error(formatKey, "no " + PluginKind.READER + " service named \"" + format + "\"" + how
                    + " (registered: " + Texts.list(plugins.registered(PluginKind.READER)) + ")");
        }
        // the reader gets skip_malformed and field (a jsonl reader requires the field in every record), plus the
        // reader's own keys from data.reader (e.g. split: paragraph for text, require: [...] for jsonl)
        Settings readerSection = data.section("reader");
        Map<String, Object> rs = new LinkedHashMap<>(readerSection.asMap());
        rs.put("skip_malformed", skip);
        rs.put("field", field);
        Settings readerSettings = SettingsTrees.at(data.source(), data.has("reader") ? readerSection.path()
                : data.path(), rs);
        DatasetReader r = plugins.get(PluginKind.READER, format, DatasetReader.class);
        check(readerSettings, () -> r.validate(readerSettings));

        // tokenizer: { type: bpe, vocab: 512 }, or just tokenizer: bpe
        String type = tokenizer.getString("type", tokenizer.getString("name", DEFAULT_TOKENIZER));
        String typeKey = !(data.asMap().get("tokenizer") instanceof Map) ? null
                : tokenizer.has("type") ? "type" : tokenizer.has("name") ? "name" : null;
        require(PluginKind.TOKENIZER, type, tokenizer, typeKey);
        Settings tokenizerSettings = SettingsTrees.without(tokenizer, "type", "name");
        TokenizerFactory tf = plugins.get(PluginKind.TOKENIZER, type, TokenizerFactory.class);
        check(tokenizer, () -> tf.validate(tokenizerSettings));
        return new PipelinePlan.Data(generator, generateSettings, trainFile, format, field, fraction, skip,
                readerSettings, type, tokenizerSettings);
    }

    private PipelinePlan.Stage stage(int index, Settings stage, String run, Path workDir, Settings rootModel,
            Settings tokenizer, List<PipelinePlan.Stage> earlier) {
        if (!stage.has("trainer")) {
            throw stage.error("trainer", "missing (required): the training method of this stage (registered: "
                    + Texts.list(trainers.registered()) + ")");
        }
        String trainerName = stage.getString("trainer");
        TrainerInfo trainer = trainers.await(trainerName, wait).orElseThrow(() -> stage.error("trainer",
                "no trainer named \"" + trainerName + "\" (registered: " + Texts.list(trainers.registered()) + ")"));
        if (trainer.configurationPolicy().equals("ignore")) {
            throw stage.error("trainer", "trainer " + trainer + " ignores configuration (component "
                    + trainer.pid() + " has configuration-policy ignore), so the pipeline cannot wire it; its"
                    + " component must require a configuration");
        }

        // the stage's model: the run's model section with the stage's own keys over it
        Settings model = rootModel;
        if (stage.has("model")) {
            Map<String, Object> merged = new LinkedHashMap<>(rootModel.asMap());
            merged.putAll(stage.section("model").asMap());
            checkModel(stage.section("model"), tokenizer, merged);
            model = SettingsTrees.at(rootModel.source(), rootModel.path(), merged);
        }
        Map<String, Path> init = init(stage, index, earlier);
        boolean wantsAttention = trainer.reference(Trainer.ATTENTION).isPresent() || model.has("attention");
        if (wantsAttention && !model.has("attention")) {
            // the default kernel, written into the stage's model so that the model's config.json records it
            Map<String, Object> chosen = new LinkedHashMap<>(model.asMap());
            chosen.put("attention", defaultKernel(model, init.containsKey("policy") ? init.get("policy")
                    : init.values().stream().findFirst().orElse(null), earlier));
            model = SettingsTrees.at(model.source(), model.path(), chosen);
        }
        String attention = model.getString("attention", DEFAULT_ATTENTION);
        PipelinePlan.StageData data = stage.has("data") ? stageData(stage.section("data"), index) : null;

        Map<String, Object> config = new LinkedHashMap<>();
        config.put(Trainer.RUN, run + "/" + index);
        config.put("align4j.stage", index + ":" + trainerName);

        // loss: a name, or a section with a name (and the loss's own keys); a trainer that takes several loss
        // families (one reference per family, no "loss" reference) gets it on the reference of the loss's family
        java.util.Set<String> wiredByLoss = new java.util.HashSet<>();
        List<TrainerInfo.Ref> families = lossFamilies(trainer);
        if (trainer.reference(Trainer.LOSS).isEmpty() && !families.isEmpty()) {
            wiredByLoss.add(wireFamily(config, trainer, families, stage));
        } else {
            wire(config, trainer, Trainer.LOSS, PluginKind.LOSS, nameOf(stage, "loss"), stage,
                    nameKey(stage, "loss"));
        }

        Settings optimizer = stage.section("optimizer");
        boolean hasOptimizer = stage.has("optimizer");
        Optional<PluginInfo> opt = wire(config, trainer, Trainer.OPTIMIZER, PluginKind.OPTIMIZER,
                nameOf(stage, "optimizer"), stage, nameKey(stage, "optimizer"));

        boolean wantsSchedule = hasOptimizer || trainer.reference(Trainer.SCHEDULE).isPresent();
        String schedule = optimizer.getString("schedule", wantsSchedule ? DEFAULT_SCHEDULE : null);
        Optional<PluginInfo> sched = wire(config, trainer, Trainer.SCHEDULE, PluginKind.SCHEDULE, schedule, stage,
                "optimizer.schedule");
        // the optimizer and the schedule check the optimizer section now, before anything runs
        if (opt.isPresent()) {
            Optimizer o = plugins.get(PluginKind.OPTIMIZER, opt.get().name(), Optimizer.class);
            check(optimizer, () -> o.validate(optimizer));
        }
        if (sched.isPresent()) {
            LearningRateSchedule s = plugins.get(PluginKind.SCHEDULE, schedule, LearningRateSchedule.class);
            check(optimizer, () -> s.validate(optimizer));
        }

        // the attention kernel is named by the model section (or chosen above)
        Optional<PluginInfo> kernel = wire(config, trainer, Trainer.ATTENTION, PluginKind.ATTENTION,
                wantsAttention ? attention : null, model, "attention");
        if (kernel.isPresent()) {
            checkKernelSupports(kernel.get(), model);
        }

        wire(config, trainer, Trainer.REWARD, PluginKind.REWARD, nameOf(stage, "reward"), stage,
                nameKey(stage, "reward"));

        // every other reference the trainer declares is named by the stage key of the same name
        for (TrainerInfo.Ref ref : trainer.references()) {
            if (!FIXED_REFERENCES.contains(ref.name()) && !wiredByLoss.contains(ref.name())) {
                if (families.contains(ref)) {
                    config.put(ref.name() + ".target", NOTHING); // the families the stage's loss is not of
                } else {
                    wireDeclared(config, trainer, ref, stage);
                }
            }
        }

        // the trainer's own check of its section, before any data is read or a tokenizer trained
        for (StageCheck c : stageChecks(trainerName)) {
            check(stage, () -> c.validate(stage));
        }

        config.putAll(SettingsTrees.flatten("stage", stage.asMap()));
        Path dir = workDir.resolve("stage-" + index + "-" + trainerName);
        return new PipelinePlan.Stage(index, trainer, stage, dir, config, model, init, data);
    }

    /** References the stage names by fixed keys (or the model and optimizer sections name). */
    private static final java.util.Set<String> FIXED_REFERENCES = java.util.Set.of(Trainer.LOSS, Trainer.OPTIMIZER,
            Trainer.SCHEDULE, Trainer.ATTENTION, Trainer.REWARD);

    /**
     * Wires a reference that only the trainer knows about (a third-party kind, say {@code judge}, or SFT's
     * {@code task}): the stage names its plugin with the reference's name as the key ({@code judge: strict} or
     * {@code judge: { name: strict }}). A mandatory reference to services that carry {@code align4j.name} must be
     * named; an optional one left unnamed gets a target that matches nothing, so Declarative Services never binds
     * whichever plugin happens to be there. A reference to unnamed services (the runtime, the model factory) is left
     * to Declarative Services.
     */
    private void wireDeclared(Map<String, Object> config, TrainerInfo trainer, TrainerInfo.Ref ref, Settings stage) {
        PluginKind kind = PluginKind.forInterface(ref.interfaceName());
        String name = nameOf(stage, ref.name());
        if (name == null) {
            boolean plugin = PluginKind.isKnown(kind) || !plugins.registered(kind).isEmpty();
            if (plugin && ref.mandatory()) {
                throw stage.error(ref.name(), "missing (required): trainer " + trainer.name() + " needs "
                        + Texts.a(PluginInfo.simple(ref.interfaceName())) + " named by this key (registered: "
                        + Texts.list(plugins.registered(kind)) + ")");
            }
            if (plugin) {
                config.put(ref.name() + ".target", NOTHING);
            }
            return;
        }
        wire(config, trainer, ref.name(), kind, name, stage, nameKey(stage, ref.name()));
    }

    /** The trainer's references to loss contracts ({@code org.align4j.api.loss.*}) other than {@code loss}. */
    private static List<TrainerInfo.Ref> lossFamilies(TrainerInfo trainer) {
        List<TrainerInfo.Ref> out = new ArrayList<>();
        for (TrainerInfo.Ref r : trainer.references()) {
            if (!r.name().equals(Trainer.LOSS) && PluginKind.LOSS.matches(r.interfaceName())) {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * Wires the stage's {@code loss:} to the one of the trainer's loss-family references whose contract the named
     * loss implements (a reward trainer: {@code loss: plackett-luce} binds its listwise reference).
     *
     * @return the reference wired
     */
    private String wireFamily(Map<String, Object> config, TrainerInfo trainer, List<TrainerInfo.Ref> families,
            Settings stage) {
        String key = nameKey(stage, "loss");
        String name = nameOf(stage, "loss");
        List<String> accepted = new ArrayList<>();
        List<PluginInfo> registered = new ArrayList<>();
        for (TrainerInfo.Ref r : families) {
            accepted.add(PluginInfo.simple(r.interfaceName()));
            registered.addAll(ofType(PluginKind.LOSS, r.interfaceName()));
        }
        if (name == null) {
            throw stage.error("loss", "missing (required): trainer " + trainer.name() + " needs a loss, one of "
                    + String.join(", ", accepted) + " (registered: " + Texts.list(registered) + ")");
        }
        PluginInfo found = require(PluginKind.LOSS, name, stage, key);
        for (TrainerInfo.Ref r : families) {
            if (found.types().contains(r.interfaceName())) {
                config.put(r.name() + ".target", Texts.nameFilter(name));
                return r.name();
            }
        }
        throw stage.error(key, "\"" + name + "\" is " + Texts.a(found.kind()) + ", but trainer " + trainer.name()
                + " takes " + String.join(", ", accepted) + " (registered: " + Texts.list(registered) + ")");
    }

    /** A target filter no service matches: an optional plugin reference the stage does not name. */
    static final String NOTHING = "(&(align4j.name=*)(!(align4j.name=*)))";

    /** The stage checks registered for {@code trainer}; none when its bundle has none. */
    private List<StageCheck> stageChecks(String trainer) {
        List<StageCheck> out = new ArrayList<>();
        for (PluginInfo p : plugins.registered(PluginKind.STAGE_CHECK)) {
            if (p.name().equals(trainer)) {
                out.add(plugins.get(PluginKind.STAGE_CHECK, trainer, StageCheck.class));
                break;
            }
        }
        return out;
    }

    /**
     * Where the stage's models start: {@code init: stage-N} (an earlier stage's final model) or {@code init: <folder>}
     * (a model folder that exists now) for the trained model ({@code policy}), or a section naming each model,
     * {@code init: { policy: stage-1, reference: stage-1, reward: stage-2 }}. Empty when the stage has no
     * {@code init}.
     */
    private Map<String, Path> init(Settings stage, int index, List<PipelinePlan.Stage> earlier) {
        Map<String, Path> out = new LinkedHashMap<>();
        if (!stage.has("init")) {
            return out;
        }
        if (stage.asMap().get("init") instanceof Map) {
            Settings section = stage.section("init");
            for (String model : section.keys()) {
                if (!model.matches("[a-z][a-z0-9_]*")) {
                    throw section.error(model, "not a model name (policy, reference, reward, value, ...: lower-case"
                            + " letters, digits and '_')");
                }
                out.put(model, folder(section, model, index, earlier));
            }
        } else {
            out.put("policy", folder(stage, "init", index, earlier));
        }
        return out;
    }

    /** The model folder {@code key} of {@code where} names: {@code stage-N} or a folder. */
    private Path folder(Settings where, String key, int index, List<PipelinePlan.Stage> earlier) {
        String value = where.getString(key);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("stage-(\\d+)").matcher(value);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            if (n >= index) {
                throw where.error(key, "\"" + value + "\" is not an earlier stage: stage " + index
                        + " can start from stage-0" + (index > 1 ? " .. stage-" + (index - 1) : "")
                        + (index == 0 ? " (none: this is the first stage; name a model folder instead)" : ""));
            }
            return earlier.get(n).output();
        }
        Path folder = resolve(value);
        if (!Files.isDirectory(folder)) {
            throw where.error(key, "no such folder: " + folder + " (name an earlier stage, init: stage-0, or a"
                    + " model folder holding model.safetensors and config.json)");
        }
        if (!Files.isRegularFile(folder.resolve("model.safetensors"))) {
            throw where.error(key, folder + " holds no model.safetensors (a model folder is what a stage writes"
                    + " to <stage>/model)");
        }
        return folder;
    }

    /**
     * A stage's own data: {@code generate: { name: ..., format: prompt-completion, ... }} or {@code train:
     * file.jsonl}, with {@code format} (a TRL format name, default detected), {@code validation_fraction} and
     * {@code skip_malformed}.
     */
    private PipelinePlan.StageData stageData(Settings data, int index) {
        PipelinePlan.StageData d = stageData0(data, index);
        if (data.has("validation_from") && !data.has("validation_file")) {
            throw data.error("validation_from", "names the earlier stage whose output holds validation_file; set"
                    + " validation_file too, e.g. validation_from: stage-2 with validation_file: heldout/pairwise.jsonl");
        }
        if (data.has("validation_file")) {
            if (data.has("validation_fraction")) {
                throw data.error("validation_fraction", "set either validation_fraction (a split) or validation_file"
                        + " (held-out examples of their own), not both");
            }
            String name = data.getString("validation_file");
            if (data.has("validation_from")) {
                d.validationFromStage = earlierStage(data, "validation_from", index);
            }
            if (d.fromStage >= 0 || d.validationFromStage >= 0) {
                Path rel = Path.of(name);
                if (rel.isAbsolute() || rel.normalize().startsWith("..") || name.isBlank()) {
                    throw data.error("validation_file", "\"" + name + "\" must be a path inside the earlier stage's"
                            + " output folder");
                }
                d.validationFile = rel.normalize();
            } else {
                Path file = resolve(name);
                if (!Files.isRegularFile(file)) {
                    throw data.error("validation_file", (Files.exists(file) ? "not a regular file: "
                            : "no such file: ") + file);
                }
                d.validationFile = file;
            }
        }
        return d;
    }

    /** The N of {@code key: stage-N}, an earlier stage than {@code index}. */
    private static int earlierStage(Settings data, String key, int index) {
        String value = data.getString(key);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("stage-(\\d+)").matcher(value);
        if (!m.matches() || Integer.parseInt(m.group(1)) >= index) {
            throw data.error(key, "\"" + value + "\" is not an earlier stage (stage " + index + " can read from "
                    + (index == 0 ? "none: it is the first stage" : "stage-0" + (index > 1 ? " .. stage-"
                            + (index - 1) : "")) + ")");
        }
        return Integer.parseInt(m.group(1));
    }

    private PipelinePlan.StageData stageData0(Settings data, int index) {
        SettingsTrees.checkKnown(data, STAGE_DATA);
        boolean generate = data.has("generate");
        boolean train = data.has("train");
        boolean from = data.has("from");
        if ((generate ? 1 : 0) + (train ? 1 : 0) + (from ? 1 : 0) != 1) {
            throw data.error(null, generate || train || from
                    ? "set one of generate, train and from, not several"
                    : "missing the examples: set generate: { name: <generator>, format: prompt-completion, count: N },"
                            + " train: <file.jsonl> or from: stage-N with file: <name.jsonl>");
        }
        if (data.has("file") && !from) {
            throw data.error("file", "applies to from: (a file of an earlier stage's output) only");
        }
        double fraction = data.getDouble("validation_fraction", DEFAULT_VALIDATION_FRACTION, 0.0, 0.9);
        boolean skip = data.getBoolean("skip_malformed", false);
        String format = data.getString("format", "auto");
        if (!format.equals("auto") && DatasetFormat.byName(format) == null) {
            throw data.error("format", "\"" + format + "\" is not a dataset format (accepted: auto, "
                    + DatasetFormat.names() + ")");
        }
        if (generate) {
            Settings g = data.section("generate");
            if (!g.has("name")) {
                throw g.error("name", "missing (required): the generator to use (registered: "
                        + Texts.list(plugins.registered(PluginKind.GENERATOR)) + ")");
            }
            String generator = g.getString("name");
            require(PluginKind.GENERATOR, generator, g, "name");
            Settings settings = SettingsTrees.without(g, "name");
            CorpusGenerator gen = plugins.get(PluginKind.GENERATOR, generator, CorpusGenerator.class);
            check(g, () -> gen.validate(settings));
            return new PipelinePlan.StageData(generator, settings, null, format, fraction, skip, data);
        }
        if (from) {
            String value = data.getString("from");
            int stage = earlierStage(data, "from", index);
            if (!data.has("file")) {
                throw data.error("file", "missing (required): which file of " + value + "'s output, e.g."
                        + " file: pairwise.jsonl");
            }
            String name = data.getString("file");
            Path rel = Path.of(name);
            if (rel.isAbsolute() || rel.normalize().startsWith("..") || name.isBlank()) {
                throw data.error("file", "\"" + name + "\" must be a path inside the earlier stage's output folder");
            }
            return new PipelinePlan.StageData(null, null, null, format, fraction, skip, data, stage,
                    rel.normalize());
        }
        Path file = resolve(data.getString("train"));
        if (!Files.isRegularFile(file)) {
            throw data.error("train", (Files.exists(file) ? "not a regular file: " : "no such file: ") + file);
        }
        return new PipelinePlan.StageData(null, null, file, format, fraction, skip, data);
    }

    /** Runs a plugin's own check of {@code section}; what it throws names a place in the file. */
    private static void check(Settings section, Runnable validation) {
        try {
            validation.run();
        } catch (SettingsException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw section.error(null, Texts.message(e));
        }
    }

    /** The name a stage gives for {@code key}: {@code key: x} or {@code key: { name: x, ... }}. */
    private static String nameOf(Settings stage, String key) {
        return stage.section(key).getString("name", null);
    }

    private static String nameKey(Settings stage, String key) {
        return stage.asMap().get(key) instanceof Map ? key + ".name" : key;
    }

    /**
     * Resolves the plugin a reference of the trainer is bound to, checks it is of the type the reference wants, and
     * puts its target filter into the configuration.
     *
     * @param where the section {@code key} belongs to (for the error)
     */
    private Optional<PluginInfo> wire(Map<String, Object> config, TrainerInfo trainer, String ref,
            PluginKind kind, String name, Settings where, String key) {
        Optional<TrainerInfo.Ref> declared = trainer.reference(ref);
        if (name == null) {
            // a trainer that declares a loss or an optimizer gets one chosen by name, never whichever DS finds
            boolean chosen = ref.equals(Trainer.LOSS) || ref.equals(Trainer.OPTIMIZER);
            if (declared.isPresent() && (declared.get().mandatory() || chosen)) {
                String iface = PluginInfo.simple(declared.get().interfaceName());
                throw where.error(key, "missing (required): trainer " + trainer.name() + " needs " + Texts.a(iface)
                        + " (registered: " + Texts.list(ofType(kind, declared.get().interfaceName())) + ")");
            }
            return Optional.empty();
        }
        PluginInfo found = require(kind, name, where, key);
        if (declared.isPresent() && !found.types().contains(declared.get().interfaceName())) {
            String wanted = declared.get().interfaceName();
            throw where.error(key, "\"" + name + "\" is " + Texts.a(found.kind()) + ", but trainer "
                    + trainer.name() + " needs " + Texts.a(PluginInfo.simple(wanted)) + " (registered "
                    + PluginInfo.simple(wanted)
                    + " services: " + Texts.list(ofType(kind, wanted)) + ")");
        }
        config.put(ref + ".target", Texts.nameFilter(name));
        return Optional.of(found);
    }

    /**
     * The kernel a stage whose model names none runs with. A stage that goes on from a model keeps the kernel that
     * model was trained with (an earlier stage's, or the {@code attention} its folder's {@code config.json} records,
     * when that kernel is registered), so an {@code init:} never fails for a kernel nobody chose. Otherwise the
     * highest {@code service.ranking} among the registered kernels that support what the model asks for (shared
     * key/value heads, a window, ALiBi) and the KV cache, ties by name; without one that has the cache, the highest
     * of those that support the model; {@value #DEFAULT_ATTENTION} when no kernel is registered yet
     * (the wiring then waits for it and names it if it never comes).
     */
    private String defaultKernel(Settings model, Path init, List<PipelinePlan.Stage> earlier) {
        List<PluginInfo> kernels = plugins.registered(PluginKind.ATTENTION);
        if (init != null) {
            String trained = null;
            for (PipelinePlan.Stage e : earlier) {
                if (e.output().equals(init)) {
                    trained = e.model.getString("attention", null);
                }
            }
            if (trained == null) {
                trained = recordedKernel(init.resolve("config.json"));
            }
            for (PluginInfo k : kernels) {
                if (k.name().equals(trained)) {
                    return trained;
                }
            }
        }
        ModelConfig c = ModelConfig.from(model, 256); // checked already; the vocabulary does not matter here
        List<String> needs = needs(c);
        List<String> withCache = new ArrayList<>(needs);
        withCache.add(AttentionKernel.CACHE); // a kernel that can also decode with the KV cache, where there is one
        for (List<String> wanted : List.of(withCache, needs)) {
            PluginInfo best = null;
            for (PluginInfo k : kernels) {
                if (k.supports().containsAll(wanted) && (best == null || k.ranking() > best.ranking())) {
                    best = k; // registered() is sorted by name: the first of equal rankings stays
                }
            }
            if (best != null) {
                return best.name();
            }
        }
        return DEFAULT_ATTENTION;
    }

    /** The {@code attention} a model folder's {@code config.json} records; {@code null} when it cannot be read. */
    private static String recordedKernel(Path configFile) {
        try {
            JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(configFile));
            JsonNode a = root == null ? null : root.get("attention");
            return a != null && a.isTextual() ? a.asText() : null;
        } catch (java.io.IOException e) {
            return null; // the stage that loads the folder says what is wrong with it
        }
    }

    /** What a model asks of its attention kernel: {@link AttentionKernel#GROUPED}, {@code WINDOW}, {@code ALIBI}. */
    private static List<String> needs(ModelConfig c) {
        List<String> out = new ArrayList<>();
        if (c.kvHeads() < c.heads()) {
            out.add(AttentionKernel.GROUPED);
        }
        if (c.window() > 0) {
            out.add(AttentionKernel.WINDOW);
        }
        if (c.positions() == ModelConfig.Positions.ALIBI) {
            out.add(AttentionKernel.ALIBI);
        }
        return out;
    }

    /**
     * Refuses a model that asks its attention kernel for what the kernel does not list in {@code align4j.supports}:
     * shared key/value heads ({@code grouped}), a window ({@code window}), ALiBi ({@code alibi}).
     */
    private static void checkKernelSupports(PluginInfo kernel, Settings model) {
        ModelConfig c = ModelConfig.from(model, 256); // checked already; the vocabulary does not matter here
        List<String> missing = needs(c);
        List<String> why = new ArrayList<>();
        for (String need : missing) {
            why.add(switch (need) {
                case AttentionKernel.GROUPED -> "kv_heads: " + c.kvHeads();
                case AttentionKernel.WINDOW -> "window: " + c.window();
                default -> "positions: alibi";
            });
        }
        for (int i = missing.size() - 1; i >= 0; i--) {
            if (kernel.supports().contains(missing.get(i))) {
                missing.remove(i);
                why.remove(i);
            }
        }
        if (!missing.isEmpty()) {
            throw model.error("attention", "kernel " + kernel + " does not support " + String.join(", ", missing)
                    + ", which this model asks for (" + String.join(", ", why) + "); it supports "
                    + (kernel.supports().isEmpty() ? "none of cache, grouped, window, alibi"
                            : String.join(", ", kernel.supports())) + ": choose a kernel that does, or drop the key");
        }
    }

    private List<PluginInfo> ofType(PluginKind kind, String type) {
        List<PluginInfo> out = new ArrayList<>();
        for (PluginInfo p : plugins.registered(kind)) {
            if (p.types().contains(type)) {
                out.add(p);
            }
        }
        return out;
    }

    /** The plugin of {@code kind} named {@code name}, or an error at {@code key} of {@code where}. */
    private PluginInfo require(PluginKind kind, String name, Settings where, String key) {
        return plugins.await(kind, name, wait).orElseThrow(() -> where.error(key, "no " + kind + " service named \""
                + name + "\" (registered: " + Texts.list(plugins.registered(kind)) + ")"));
    }
}
