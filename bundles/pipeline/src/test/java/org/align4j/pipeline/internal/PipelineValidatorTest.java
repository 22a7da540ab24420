package org.align4j.pipeline.internal;

import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.CorpusGenerator;
import java.util.function.LongConsumer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.train.Trainer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineValidatorTest {
    static final String LM_LOSS = "org.align4j.api.loss.LanguageModelLoss";
    static final String PREF_LOSS = "org.align4j.api.loss.PreferenceLoss";
    static final String OPTIMIZER = "org.align4j.api.optim.Optimizer";
    static final String SCHEDULE = LearningRateSchedule.class.getName();
    static final String ATTENTION = "org.align4j.api.attention.AttentionKernel";
    static final String READER = "org.align4j.api.data.DatasetReader";
    static final String GENERATOR = "org.align4j.api.data.CorpusGenerator";
    static final String TOKENIZER = "org.align4j.api.tokenizer.TokenizerFactory";

    @TempDir
    Path dir;

    FakeRegistry registry;
    final RecordingOptimizer adamw = new RecordingOptimizer();
    /** Settings every schedule validation saw. */
    final List<Settings> validated = new ArrayList<>();

    static TrainerInfo.Ref[] pretrainRefs() {
        return new TrainerInfo.Ref[] {
            new TrainerInfo.Ref(Trainer.LOSS, LM_LOSS, "1..1"),
            new TrainerInfo.Ref(Trainer.OPTIMIZER, OPTIMIZER, "1..1"),
            new TrainerInfo.Ref(Trainer.SCHEDULE, SCHEDULE, "1..1"),
            new TrainerInfo.Ref(Trainer.ATTENTION, ATTENTION, "1..1")};
    }

    @BeforeEach
    void registry() {
        LearningRateSchedule cosine = new LearningRateSchedule() {
            @Override
            public double rate(long step, long totalSteps, Settings settings) {
                return settings.getDouble("lr");
            }

            @Override
            public void validate(Settings settings) {
                validated.add(settings);
                if (settings.getDouble("lr", 1e-3) <= 0) {
                    throw settings.error("lr", "must be > 0");
                }
            }
        };
        registry = new FakeRegistry()
                .add(LM_LOSS, "causal-lm", "org.align4j.loss.lm", new Object())
                .add(PREF_LOSS, "dpo", "org.align4j.loss.preference", new Object())
                .add(OPTIMIZER, "adamw", "org.align4j.optimizers", adamw)
                .add(OPTIMIZER, "sgd", "org.align4j.optimizers", new RecordingOptimizer())
                .add(SCHEDULE, "cosine", "org.align4j.optimizers", cosine)
                .add(ATTENTION, "mha", "org.align4j.attention.standard", new Object(), "cache", "grouped", "window",
                        "alibi")
                .add(ATTENTION, "plain", "org.example.attention", new Object(), "cache")
                .add(READER, "jsonl", "org.align4j.data", (DatasetReader) (f, s) -> null)
                .add(READER, "text", "org.align4j.data", (DatasetReader) (f, s) -> null)
                .add(GENERATOR, "arithmetic", "org.align4j.task.arithmetic", new CorpusGenerator() {
                    @Override
                    public List<String> generate(Settings settings, long seed) {
                        return List.of();
                    }

                    @Override
                    public void validate(Settings settings) {
                        settings.checkKnown("count");
                    }
                })
                .add(TOKENIZER, "bpe", "org.align4j.tokenizer", new TokenizerFactory() {
                    @Override
                    public Tokenizer train(Iterable<String> corpus, Settings settings, LongConsumer progress) {
                        throw new UnsupportedOperationException("not called while validating");
                    }

                    @Override
                    public Tokenizer load(Path file) {
                        throw new UnsupportedOperationException("not called while validating");
                    }

                    @Override
                    public void validate(Settings settings) {
                        if (settings.getInt("vocab", 512) < 257) {
                            throw settings.error("vocab", "expected at least 257");
                        }
                    }
                })
                .trainer("pretrain", "org.align4j.trainer.pretrain", null, pretrainRefs());
    }

    private Path file(String... lines) throws IOException {
        Path f = dir.resolve("x.yaml");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    private static final String[] GOOD = {
        "run: { name: tiny-pretrain, workdir: runs/tiny-pretrain, seed: 7 }",
        "model: { layers: 2, d_model: 128, heads: 4, context: 64, norm: pre, attention: mha }",
        "data:",
        "  generate: { name: arithmetic, count: 200 }",
        "  field: text",
        "  validation_fraction: 0.05",
        "  tokenizer: { type: bpe, vocab: 512 }",
        "stages:",
        "  - trainer: pretrain",
        "    loss: causal-lm",
        "    optimizer: { name: adamw, lr: 3.0e-4, warmup: 100, schedule: cosine }",
        "    steps: 2000",
        "    eval: { every: 200, batches: 20 }"};

    private PipelinePlan validate(Path f, Map<String, String> overrides) {
        return new PipelineValidator(registry, registry, Duration.ofMillis(250), dir)
                .validate(PipelineFile.read(f, overrides));
    }

    private String error(Map<String, String> overrides, String... lines) throws IOException {
        Path f = file(lines);
        return assertThrows(SettingsException.class, () -> validate(f, overrides)).getMessage();
    }

    private String error(String... lines) throws IOException {
        return error(Map.of(), lines);
    }

    private String errorWith(String key, String value) throws IOException {
        Map<String, String> o = new LinkedHashMap<>();
        o.put(key, value);
        return error(o, GOOD);
    }

    @Test
    void aGoodFileBecomesAPlanWithTheStageConfiguration() throws IOException {
        Path f = file(GOOD);
        PipelinePlan plan = validate(f, Map.of());
        assertEquals("tiny-pretrain", plan.name());
        assertEquals(dir.resolve("runs/tiny-pretrain"), plan.workDir());
        assertEquals(7, plan.seed());
        assertEquals(1, plan.stages().size());
        PipelinePlan.Stage s = plan.stages().get(0);
        assertEquals("0:pretrain", s.label());
        assertEquals(dir.resolve("runs/tiny-pretrain/stage-0-pretrain"), s.dir());
        Map<String, Object> c = s.configuration();
        assertEquals("tiny-pretrain/0", c.get("align4j.run"));
        assertEquals("0:pretrain", c.get("align4j.stage"));
        assertEquals("(align4j.name=causal-lm)", c.get("loss.target"));
        assertEquals("(align4j.name=adamw)", c.get("optimizer.target"));
        assertEquals("(align4j.name=cosine)", c.get("schedule.target"));
        assertEquals("(align4j.name=mha)", c.get("attention.target"));
        assertFalse(c.containsKey("reward.target"));
        assertEquals("pretrain", c.get("stage.trainer"));
        assertEquals("3.0E-4", c.get("stage.optimizer.lr"));
        assertEquals("2000", c.get("stage.steps"));
        assertEquals("200", c.get("stage.eval.every"));
        for (Object v : c.values()) {
            assertTrue(v instanceof String, "configuration values are strings: " + v);
        }
        // the optimizer and the schedule validated the optimizer section, at its place in the file
        assertEquals(1, validated.size());
        assertEquals("stages[0].optimizer", validated.get(0).path());
        assertEquals(1, adamw.validated.size());
        assertEquals("stages[0].optimizer", adamw.validated.get(0).path());
        assertEquals(3.0e-4, adamw.validated.get(0).getDouble("lr"));
        // plugins: what a generated corpus and the tokenizer need
        assertEquals("arithmetic", plan.data.generator);
        assertEquals("jsonl", plan.data.format);
        assertEquals("data.generate", plan.data.generateSettings.path());
        assertFalse(plan.data.generateSettings.has("name"));
        assertEquals(200, plan.data.generateSettings.getInt("count"));
        assertEquals("bpe", plan.data.tokenizerType);
        assertEquals(Map.of("vocab", 512), plan.data.tokenizerSettings.asMap());
        assertEquals("data.tokenizer", plan.data.tokenizerSettings.path());
        assertEquals(Map.of("skip_malformed", false, "field", "text"), plan.data.readerSettings.asMap());
        assertEquals("data", plan.data.readerSettings.path());
        // plugins are waited for with the configured patience
        assertTrue(registry.waits.stream().allMatch(w -> w.equals(Duration.ofMillis(250))));
    }

    @Test
    void defaultsFillWhatTheFileLeavesOut() throws IOException {
        Path f = file("data: { generate: arithmetic }",
                "stages:",
                "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw }");
        PipelinePlan plan = validate(f, Map.of());
        assertEquals("x", plan.name()); // the file name
        assertEquals(dir.resolve("runs/x"), plan.workDir());
        assertEquals(42, plan.seed());
        assertEquals(0.05, plan.data.validationFraction);
        assertEquals("text", plan.data.field);
        assertEquals("bpe", plan.data.tokenizerType);
        Map<String, Object> c = plan.stages().get(0).configuration();
        assertEquals("(align4j.name=cosine)", c.get("schedule.target"));
        assertEquals("(align4j.name=mha)", c.get("attention.target"));
        assertEquals("(align4j.name=adamw)", c.get("optimizer.target"));
    }

    @Test
    void anUnknownLossNamesWhatIsRegistered() throws IOException {
        Path f = file(GOOD);
        String m = error(Map.of("stages[0].loss", "causal-lmm"), GOOD);
        assertEquals(f + ": stages[0].loss: no loss service named \"causal-lmm\" (registered: causal-lm 0.1.0"
                + " [org.align4j.loss.lm], dpo 0.1.0 [org.align4j.loss.preference])", m);
    }

    @Test
    void aLossOfTheWrongFamilySaysWhichOneTheTrainerNeeds() throws IOException {
        assertTrue(errorWith("stages[0].loss", "dpo").endsWith("stages[0].loss: \"dpo\" is a PreferenceLoss, but"
                + " trainer pretrain needs a LanguageModelLoss (registered LanguageModelLoss services: causal-lm"
                + " 0.1.0 [org.align4j.loss.lm])"));
    }

    @Test
    void everyOtherPluginNameIsCheckedWhereItIsWritten() throws IOException {
        assertTrue(errorWith("stages[0].optimizer.name", "adam").endsWith("stages[0].optimizer.name: no optimizer"
                + " service named \"adam\" (registered: adamw 0.1.0 [org.align4j.optimizers], sgd 0.1.0"
                + " [org.align4j.optimizers])"));
        assertTrue(errorWith("stages[0].optimizer.schedule", "linear").endsWith("stages[0].optimizer.schedule: no"
                + " learning-rate schedule service named \"linear\" (registered: cosine 0.1.0"
                + " [org.align4j.optimizers])"));
        assertTrue(errorWith("model.attention", "flash").endsWith("model.attention: no attention kernel service"
                + " named \"flash\" (registered: mha 0.1.0 [org.align4j.attention.standard], plain 0.1.0"
                + " [org.example.attention])"));
        assertTrue(errorWith("data.tokenizer.type", "wordpiece").endsWith("data.tokenizer.type: no tokenizer"
                + " factory service named \"wordpiece\" (registered: bpe 0.1.0 [org.align4j.tokenizer])"));
        assertTrue(errorWith("data.generate.name", "poems").endsWith("data.generate.name: no corpus generator"
                + " service named \"poems\" (registered: arithmetic 0.1.0 [org.align4j.task.arithmetic])"));
        assertTrue(errorWith("stages[0].reward", "judge").endsWith("stages[0].reward: no reward model service"
                + " named \"judge\" (registered: none)"));
        assertTrue(errorWith("stages[0].trainer", "pretrian").endsWith("stages[0].trainer: no trainer named"
                + " \"pretrian\" (registered: pretrain 0.1.0 [org.align4j.trainer.pretrain])"));
    }

    @Test
    void optimizerAndScheduleCheckTheOptimizerSettingsBeforeAnythingRuns() throws IOException {
        assertTrue(errorWith("stages[0].optimizer.lr", "-1").endsWith("stages[0].optimizer.lr: must be > 0"));
        assertTrue(errorWith("stages[0].optimizer.beta3", "0.9").endsWith("stages[0].optimizer.beta3: unknown"
                + " setting (accepted here: name, lr, schedule, warmup, min_lr, clip_norm, weight_decay)"));
    }

    @Test
    void dataPluginsCheckTheirSettingsBeforeAnythingRuns() throws IOException {
        String gen = error("data: { generate: { name: arithmetic, cuont: 5 } }", "stages:",
                "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw }");
        assertTrue(gen.endsWith("data.generate.cuont: unknown setting (accepted here: count)"), gen);
        String tok = error("data: { generate: arithmetic, tokenizer: { type: bpe, vocab: 100 } }", "stages:",
                "  - { trainer: pretrain, loss: causal-lm, optimizer: adamw }");
        assertTrue(tok.endsWith("data.tokenizer.vocab: expected at least 257"), tok);
    }

    @Test
    void whatTheTrainerNeedsMustBeNamed() throws IOException {
        String m = error("data: { generate: arithmetic }", "stages:", "  - { trainer: pretrain, optimizer: adamw }");
        assertTrue(m.endsWith("stages[0].loss: missing (required): trainer pretrain needs a LanguageModelLoss"
                + " (registered: causal-lm 0.1.0 [org.align4j.loss.lm])"), m);
        String m2 = error("data: { generate: arithmetic }", "stages:", "  - { trainer: pretrain, loss: causal-lm }");
        assertTrue(m2.endsWith("stages[0].optimizer: missing (required): trainer pretrain needs an Optimizer"
                + " (registered: adamw 0.1.0 [org.align4j.optimizers], sgd 0.1.0 [org.align4j.optimizers])"), m2);
        assertTrue(error("data: { generate: arithmetic }", "stages:", "  - { loss: causal-lm }")
                .endsWith("stages[0].trainer: missing (required): the training method of this stage (registered:"
                        + " pretrain 0.1.0 [org.align4j.trainer.pretrain])"));
        assertTrue(error("data: { generate: arithmetic }").endsWith("stages: missing (required): a pipeline needs at"
                + " least one stage, e.g. stages: [ { trainer: pretrain, loss: causal-lm, steps: 100 } ]"));
    }

    @Test
    void unknownKeysAreRejectedWithASuggestion() throws IOException {
        Path f = file(GOOD);
        assertEquals(f + ": stagse: unknown setting (did you mean \"stages\"?); accepted here: run, model, data,"
                + " stages", errorWith("stagse", "x"));
        assertEquals(f + ": run.sede: unknown setting (did you mean \"seed\"?); accepted here: name, workdir, seed",
                errorWith("run.sede", "1"));
        assertEquals(f + ": data.validation: unknown setting; accepted here: generate, train, format, field,"
                + " validation_fraction, skip_malformed, tokenizer, reader", errorWith("data.validation", "v.jsonl"));
        assertTrue(errorWith("model.layer", "3").endsWith("model.layer: unknown setting (accepted here: vocab_size,"
                + " layers, d_model, heads, kv_heads, ffn, context, norm, norm_type, positions, rope_base, window,"
                + " tie_embeddings, attention, norm_eps, init_std, precision)"));
    }

    @Test
    void modelSettingsAreCheckedBeforeAnythingRuns() throws IOException {
        Path f = file(GOOD);
        assertEquals(f + ": model.heads: must divide d_model (128), got 5", errorWith("model.heads", "5"));
        assertEquals(f + ": model.kv_heads: must divide heads (4): each key/value head serves heads / kv_heads query"
                + " heads, got 3", errorWith("model.kv_heads", "3"));
        assertTrue(errorWith("model.kv_heads", "0").endsWith(
                "model.kv_heads: expected a whole number in [1, 1024], got 0"));
        assertEquals(f + ": model.norm: expected one of pre, post, got \"middle\"", errorWith("model.norm", "middle"));
    }

    @Test
    void aModelAskingItsKernelForWhatItDoesNotSupportIsRefusedNamingTheKernelAndWhatIsMissing() throws IOException {
        Path f = file(GOOD);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model.window", "16");
        o.put("model.kv_heads", "2");
        o.put("model.positions", "rope");
        validate(f, o); // mha supports windows and shared heads; rope needs nothing of the kernel
        o.put("model.attention", "plain");
        assertEquals(f + ": model.attention: kernel plain 0.1.0 [org.example.attention] does not support grouped,"
                + " window, which this model asks for (kv_heads: 2, window: 16); it supports cache: choose a kernel"
                + " that does, or drop the key", error(o, GOOD));
        o.remove("model.window");
        o.remove("model.kv_heads");
        validate(f, o);
        o.put("model.positions", "alibi");
        assertTrue(error(o, GOOD).endsWith("does not support alibi, which this model asks for (positions: alibi);"
                + " it supports cache: choose a kernel that does, or drop the key"), error(o, GOOD));
        o.put("model.attention", "mha");
        validate(f, o);
    }

    @Test
    void aModelThatNamesNoKernelGetsTheHighestRankedOneThatSupportsWhatItAsksFor() throws IOException {
        registry.ranked(ATTENTION, "fast", "org.example.fast", 10, "cache", "grouped")
                .ranked(ATTENTION, "faster", "org.example.faster", 20, "cache")
                .ranked(ATTENTION, "no-cache", "org.example.nocache", 30, "grouped"); // ranks highest, cannot decode
        List<String> lines = new ArrayList<>();
        for (String line : GOOD) {
            lines.add(line.replace(", attention: mha", ""));
        }
        String[] unnamed = lines.toArray(new String[0]);
        assertTrue(!String.join("\n", unnamed).contains("attention"));
        PipelinePlan plan = validate(file(unnamed), Map.of());
        // "no-cache" ranks highest but cannot decode with a KV cache: "faster" is the default, in the model's settings
        assertEquals("faster", plan.stages().get(0).model.getString("attention"));
        assertEquals("(align4j.name=faster)", plan.stages().get(0).configuration().get("attention.target"));
        // shared key/value heads: "faster" cannot, "fast" can; a window: only mha (ranking 0) can
        assertEquals("fast", validate(file(unnamed), Map.of("model.kv_heads", "2")).stages().get(0).model
                .getString("attention"));
        assertEquals("mha", validate(file(unnamed), Map.of("model.window", "8")).stages().get(0).model
                .getString("attention"));
        // a kernel the model names is kept, whatever the rankings
        assertEquals("mha", validate(file(GOOD), Map.of()).stages().get(0).model.getString("attention"));

        // a stage that goes on from a model keeps the kernel that model was trained with
        List<String> chain = new ArrayList<>(List.of(unnamed));
        chain.add("    model: { attention: fast }");
        chain.add("  - trainer: pretrain");
        chain.add("    loss: causal-lm");
        chain.add("    optimizer: { name: adamw, lr: 1.0e-4 }");
        chain.add("    init: stage-0");
        PipelinePlan two = validate(file(chain.toArray(new String[0])), Map.of());
        assertEquals("fast", two.stages().get(1).model.getString("attention"));
        Path folder = Files.createDirectories(dir.resolve("models/trained"));
        Files.writeString(folder.resolve("model.safetensors"), "x");
        Files.writeString(folder.resolve("config.json"), "{\"model_type\": \"align4j\", \"attention\": \"mha\"}\n");
        assertEquals("mha", validate(file(unnamed), Map.of("stages[0].init", "models/trained")).stages().get(0)
                .model.getString("attention"));
        // ... when that kernel is registered; otherwise the ranking decides
        Files.writeString(folder.resolve("config.json"), "{\"attention\": \"gone\"}\n");
        assertEquals("faster", validate(file(unnamed), Map.of("stages[0].init", "models/trained")).stages().get(0)
                .model.getString("attention"));
    }

    @Test
    void positionAndWindowSettingsAreChecked() throws IOException {
        Path f = file(GOOD);
        assertEquals(f + ": model.rope_base: is read only with positions: rope (positions here: learned)",
                errorWith("model.rope_base", "500"));
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model.positions", "rope");
        o.put("model.heads", "128"); // head size 1
        assertTrue(error(o, GOOD).endsWith("model.positions: rope pairs the dimensions of a head: the head size"
                + " (d_model / heads = 1) must be even"), error(o, GOOD));
        assertTrue(errorWith("model.window", "-1").endsWith("model.window: expected a whole number in [0, 16777216],"
                + " got -1"));
        assertTrue(errorWith("model.positions", "relative").endsWith("model.positions: expected one of learned,"
                + " sinusoidal, rope, alibi, got \"relative\""));
    }

    @Test
    void dataMustNameExactlyOneCorpusThatExists() throws IOException {
        Path f = file(GOOD);
        assertTrue(errorWith("data.train", "corpus.jsonl").endsWith("data: set either generate or train, not both"));
        String m = error("data: { train: missing.jsonl }", "stages: [ { trainer: pretrain } ]");
        assertEquals(f + ": data.train: no such file: " + dir.resolve("missing.jsonl")
                + " (relative paths are resolved against " + dir + ")", m);
        assertTrue(error("data: { field: text }", "stages: [ { trainer: pretrain } ]").endsWith("data: missing the"
                + " corpus: set generate: { name: <generator>, count: N } or train: <file>"));
        assertTrue(errorWith("data.validation_fraction", "1.5").endsWith("data.validation_fraction: expected a"
                + " number in [0.0, 0.9], got 1.5"));
    }

    @Test
    void theReaderOfAUserCorpusFollowsItsExtensionOrFormat() throws IOException {
        Files.writeString(dir.resolve("corpus.txt"), "hello\n");
        Files.writeString(dir.resolve("corpus.jsonl"), "{\"text\": \"hello\"}\n");
        Files.writeString(dir.resolve("corpus.csv"), "text\nhello\n");
        String[] base = {"data: { train: corpus.txt, reader: { split: paragraph } }",
            "stages: [ { trainer: pretrain, loss: causal-lm, optimizer: adamw } ]"};
        PipelinePlan plan = validate(file(base), Map.of());
        assertEquals("text", plan.data.format);
        assertEquals(dir.resolve("corpus.txt"), plan.data.trainFile);
        assertEquals("data.reader", plan.data.readerSettings.path());
        assertEquals("paragraph", plan.data.readerSettings.getString("split"));
        assertEquals("text", plan.data.readerSettings.getString("field"));
        assertEquals("jsonl", validate(file(base), Map.of("data.train", "corpus.jsonl")).data.format);
        Map<String, String> csv = new LinkedHashMap<>();
        csv.put("data.train", "corpus.csv");
        csv.put("data.format", "csv");
        String m = error(csv, base);
        assertTrue(m.endsWith("data.format: no dataset reader service named \"csv\" (registered: jsonl 0.1.0"
                + " [org.align4j.data], text 0.1.0 [org.align4j.data])"), m);
    }

    @Test
    void aRunNameMustBeUsableInFilesAndFilters() throws IOException {
        assertTrue(errorWith("run.name", "my run").endsWith("run.name: \"my run\" is not a valid run name: use up to"
                + " 100 letters, digits, '.', '_' and '-', starting with a letter or digit (it names the run's"
                + " configurations and files)"));
    }

    @Test
    void aTrainerThatIgnoresConfigurationCannotBeWired() throws IOException {
        registry.trainer(new TrainerInfo(new PluginInfo("static", List.of(Trainer.class.getName()), "b", "1.0.0"),
                "pid.static", "ignore", List.of()), null);
        assertTrue(errorWith("stages[0].trainer", "static").contains("has configuration-policy ignore"));
    }

    @Test
    void aTrainerWithoutALossReferenceStillHasItsNamesChecked() throws IOException {
        registry.trainer(new TrainerInfo(new PluginInfo("plain", List.of(Trainer.class.getName()), "b", "1.0.0"),
                "pid.plain", "require", List.of()), null);
        Path f = file("data: { generate: arithmetic }", "stages: [ { trainer: plain } ]");
        Map<String, Object> c = validate(f, Map.of()).stages().get(0).configuration();
        assertFalse(c.containsKey("loss.target"));
        assertFalse(c.containsKey("optimizer.target"));
        assertFalse(c.containsKey("schedule.target"));
        assertFalse(c.containsKey("attention.target"));
        assertTrue(error(Map.of("stages[0].loss", "nope"), "data: { generate: arithmetic }",
                "stages: [ { trainer: plain } ]").endsWith("stages[0].loss: no loss service named \"nope\""
                        + " (registered: causal-lm 0.1.0 [org.align4j.loss.lm], dpo 0.1.0"
                        + " [org.align4j.loss.preference])"));
    }

    // ---- stages that grow with trainers: references, init, model, data, the trainer's own check ----

    private static final String JUDGE = "com.example.Judge";

    private static String[] twoStages(String... second) {
        List<String> lines = new ArrayList<>(List.of(GOOD));
        lines.add("  - trainer: pretrain");
        lines.add("    loss: causal-lm");
        lines.add("    optimizer: { name: adamw, lr: 1.0e-4 }");
        lines.addAll(List.of(second));
        return lines.toArray(new String[0]);
    }

    @Test
    void aReferenceOfAKindThePipelineDoesNotKnowIsWiredByTheStageKeyOfItsName() throws IOException {
        registry.add(JUDGE, "strict", "com.example.judges", new Object())
                .add(JUDGE, "lenient", "com.example.judges", new Object());
        List<TrainerInfo.Ref> refs = new ArrayList<>(List.of(pretrainRefs()));
        refs.add(new TrainerInfo.Ref("judge", JUDGE, "1..1", "dynamic"));
        refs.add(new TrainerInfo.Ref("second_opinion", JUDGE, "0..1", "dynamic"));
        // a static mandatory reference to an unnamed service (the runtime, say) is left to Declarative Services
        refs.add(new TrainerInfo.Ref("runtime", "org.align4j.api.runtime.TensorFlowRuntime", "1..1", "static"));
        registry.trainer("judged", "com.example.trainer", null, refs.toArray(new TrainerInfo.Ref[0]));

        Map<String, Object> c = validate(file(GOOD), Map.of("stages[0].trainer", "judged", "stages[0].judge",
                "strict")).stages().get(0).configuration();
        assertEquals("(align4j.name=strict)", c.get("judge.target"));
        assertFalse(c.containsKey("runtime.target"));
        // an optional plugin the stage does not name is bound to nothing, not to whichever is registered
        assertEquals(PipelineValidator.NOTHING, c.get("second_opinion.target"));

        String missing = errorWith("stages[0].trainer", "judged");
        assertEquals(dir.resolve("x.yaml") + ": stages[0].judge: missing (required): trainer judged needs a Judge named by this key"
                + " (registered: lenient 0.1.0 [com.example.judges], strict 0.1.0 [com.example.judges])", missing);
        String unknown = error(Map.of("stages[0].trainer", "judged", "stages[0].judge", "harsh"), GOOD);
        assertTrue(unknown.startsWith(dir.resolve("x.yaml") + ": stages[0].judge: no Judge service named \"harsh\" (registered:"
                + " lenient"), unknown);
    }

    @Test
    void theTrainersOwnCheckRunsBeforeAnythingIsRead() throws IOException {
        registry.add(org.align4j.api.train.StageCheck.class.getName(), "pretrain", "org.align4j.trainer.pretrain",
                (org.align4j.api.train.StageCheck) stage -> stage.getInt("batch", 16, 1, 65536));
        assertEquals(dir.resolve("x.yaml") + ": stages[0].batch: expected a whole number in [1, 65536], got 0",
                errorWith("stages[0].batch", "0"));
        assertEquals(dir.resolve("x.yaml") + ": stages[0].batch: expected a number, got \"many\"",
                errorWith("stages[0].batch", "many"));
        validate(file(GOOD), Map.of()); // a good stage passes its check
    }

    @Test
    void aStageStartsFromAnEarlierStageOrAModelFolder() throws IOException {
        PipelinePlan plan = validate(file(twoStages("    init: stage-0")), Map.of());
        assertEquals(Map.of(), plan.stages().get(0).init);
        assertEquals(Map.of("policy", dir.resolve("runs/tiny-pretrain/stage-0-pretrain/model")),
                plan.stages().get(1).init);

        assertEquals(dir.resolve("x.yaml") + ": stages[1].init: \"stage-1\" is not an earlier stage: stage 1 can start from stage-0",
                error(twoStages("    init: stage-1")));
        assertEquals(dir.resolve("x.yaml") + ": stages[0].init: \"stage-0\" is not an earlier stage: stage 0 can start from stage-0"
                + " (none: this is the first stage; name a model folder instead)",
                errorWith("stages[0].init", "stage-0"));
        String noFolder = errorWith("stages[0].init", "models/none");
        assertTrue(noFolder.startsWith(dir.resolve("x.yaml") + ": stages[0].init: no such folder: " + dir.resolve("models/none")),
                noFolder);
        Files.createDirectories(dir.resolve("models/empty"));
        String notModel = errorWith("stages[0].init", "models/empty");
        assertTrue(notModel.contains("holds no model.safetensors"), notModel);
        Files.writeString(dir.resolve("models/empty/model.safetensors"), "x");
        assertEquals(Map.of("policy", dir.resolve("models/empty")),
                validate(file(GOOD), Map.of("stages[0].init", "models/empty")).stages().get(0).init);

        // each model of a stage may start from its own folder
        PipelinePlan several = validate(file(twoStages("    init: { policy: stage-0, reference: stage-0,"
                + " reward: models/empty }")), Map.of());
        assertEquals(Map.of("policy", dir.resolve("runs/tiny-pretrain/stage-0-pretrain/model"),
                "reference", dir.resolve("runs/tiny-pretrain/stage-0-pretrain/model"),
                "reward", dir.resolve("models/empty")), several.stages().get(1).init);
        assertEquals(dir.resolve("x.yaml") + ": stages[1].init.reward: \"stage-3\" is not an earlier stage: stage 1"
                + " can start from stage-0", error(twoStages("    init: { reward: stage-3 }")));
        String badName = error(twoStages("    init: { Reward: stage-0 }"));
        assertTrue(badName.startsWith(dir.resolve("x.yaml") + ": stages[1].init.Reward: not a model name"), badName);
    }

    @Test
    void aStageMayOverrideModelKeysAndNameItsOwnData() throws IOException {
        Path sft = dir.resolve("sft.jsonl");
        Files.writeString(sft, "{\"prompt\": \"1+1=\", \"completion\": \"2\"}\n");
        PipelinePlan plan = validate(file(twoStages("    model: { context: 32 }",
                "    data: { train: sft.jsonl, format: prompt-completion, validation_fraction: 0.2 }")), Map.of());
        PipelinePlan.Stage second = plan.stages().get(1);
        assertEquals(32, second.model.getInt("context"));
        assertEquals(2, second.model.getInt("layers")); // the run's keys stay
        assertEquals(64, plan.stages().get(0).model.getInt("context"));
        assertEquals(sft, second.data.file);
        assertEquals("prompt-completion", second.data.format);
        assertEquals(0.2, second.data.validationFraction);
        assertEquals(null, plan.stages().get(0).data);

        assertEquals(dir.resolve("x.yaml") + ": stages[1].model.heads: must divide d_model (128), got 5",
                error(twoStages("    model: { heads: 5 }")));
        String badFormat = error(twoStages("    data: { train: sft.jsonl, format: pairs }"));
        assertTrue(badFormat.startsWith(dir.resolve("x.yaml") + ": stages[1].data.format: \"pairs\" is not a dataset format"
                + " (accepted: auto, text, prompt-completion"), badFormat);
        String unknownKey = error(twoStages("    data: { train: sft.jsonl, tokenizer: bpe }"));
        assertTrue(unknownKey.startsWith(dir.resolve("x.yaml") + ": stages[1].data.tokenizer: unknown"), unknownKey);
        String noFile = error(twoStages("    data: { train: none.jsonl }"));
        assertTrue(noFile.startsWith(dir.resolve("x.yaml") + ": stages[1].data.train: no such file: "), noFile);
    }

    @Test
    void aStageMayReadAFileAnEarlierStageWrites() throws IOException {
        PipelinePlan plan = validate(file(twoStages(
                "    data: { from: stage-0, file: feedback/pairwise.jsonl, format: pairwise }")), Map.of());
        PipelinePlan.StageData d = plan.stages().get(1).data;
        assertEquals(0, d.fromStage);
        assertEquals(Path.of("feedback/pairwise.jsonl"), d.fromFile);
        assertEquals("pairwise", d.format);

        String later = error(twoStages("    data: { from: stage-1, file: x.jsonl }"));
        assertEquals(dir.resolve("x.yaml") + ": stages[1].data.from: \"stage-1\" is not an earlier stage (stage 1 can"
                + " read from stage-0)", later);
        String noFile = error(twoStages("    data: { from: stage-0 }"));
        assertTrue(noFile.startsWith(dir.resolve("x.yaml") + ": stages[1].data.file: missing (required)"), noFile);
        String outside = error(twoStages("    data: { from: stage-0, file: ../../etc/passwd }"));
        assertTrue(outside.contains("must be a path inside the earlier stage's output folder"), outside);
        String both = error(twoStages("    data: { from: stage-0, file: a.jsonl, train: b.jsonl }"));
        assertTrue(both.endsWith("set one of generate, train and from, not several"), both);
    }

    @Test
    void aTrainerOfSeveralLossFamiliesGetsTheNamedLossOnTheReferenceOfItsFamily() throws IOException {
        String pairwise = "org.align4j.api.loss.PairwiseLoss";
        String listwise = "org.align4j.api.loss.ListwiseLoss";
        registry.add(pairwise, "bradley-terry", "org.align4j.loss.pairwise", new Object())
                .add(listwise, "plackett-luce", "org.align4j.loss.listwise", new Object())
                .trainer("reward", "org.align4j.trainer.reward", null,
                        new TrainerInfo.Ref("pairwise", pairwise, "0..1", "dynamic"),
                        new TrainerInfo.Ref("listwise", listwise, "0..1", "dynamic"),
                        new TrainerInfo.Ref(Trainer.OPTIMIZER, OPTIMIZER, "0..1", "dynamic"),
                        new TrainerInfo.Ref(Trainer.SCHEDULE, SCHEDULE, "0..1", "dynamic"),
                        new TrainerInfo.Ref(Trainer.ATTENTION, ATTENTION, "0..1", "dynamic"));
        Map<String, Object> c = validate(file(GOOD), Map.of("stages[0].trainer", "reward", "stages[0].loss",
                "plackett-luce")).stages().get(0).configuration();
        assertEquals("(align4j.name=plackett-luce)", c.get("listwise.target"));
        assertEquals(PipelineValidator.NOTHING, c.get("pairwise.target"));
        assertFalse(c.containsKey("loss.target"));
        c = validate(file(GOOD), Map.of("stages[0].trainer", "reward", "stages[0].loss", "bradley-terry")).stages()
                .get(0).configuration();
        assertEquals("(align4j.name=bradley-terry)", c.get("pairwise.target"));
        assertEquals(PipelineValidator.NOTHING, c.get("listwise.target"));

        String wrongFamily = errorWith("stages[0].trainer", "reward"); // GOOD names causal-lm
        assertEquals(dir.resolve("x.yaml") + ": stages[0].loss: \"causal-lm\" is a LanguageModelLoss, but trainer"
                + " reward takes PairwiseLoss, ListwiseLoss (registered: bradley-terry 0.1.0 [org.align4j.loss.pairwise],"
                + " plackett-luce 0.1.0 [org.align4j.loss.listwise])", wrongFamily);
    }

    @Test
    void heldOutExamplesMayComeFromAFileOfTheirOwn() throws IOException {
        PipelinePlan plan = validate(file(twoStages("    data: { from: stage-0, file: feedback/pairwise.jsonl,"
                + " validation_file: feedback/heldout/pairwise.jsonl }")), Map.of());
        assertEquals(Path.of("feedback/heldout/pairwise.jsonl"), plan.stages().get(1).data.validationFile);

        Path train = dir.resolve("train.jsonl");
        Path held = dir.resolve("held.jsonl");
        Files.writeString(train, "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
        Files.writeString(held, "{\"prompt\": \"c\", \"completion\": \"d\"}\n");
        plan = validate(file(twoStages("    data: { train: train.jsonl, validation_file: held.jsonl }")), Map.of());
        assertEquals(held, plan.stages().get(1).data.validationFile);

        String both = error(twoStages("    data: { train: train.jsonl, validation_file: held.jsonl,"
                + " validation_fraction: 0.1 }"));
        assertTrue(both.startsWith(dir.resolve("x.yaml") + ": stages[1].data.validation_fraction: set either"), both);
        String missing = error(twoStages("    data: { train: train.jsonl, validation_file: none.jsonl }"));
        assertTrue(missing.startsWith(dir.resolve("x.yaml") + ": stages[1].data.validation_file: no such file"),
                missing);
        String outside = error(twoStages("    data: { from: stage-0, file: a.jsonl, validation_file: ../b.jsonl }"));
        assertTrue(outside.contains("must be a path inside the earlier stage's output folder"), outside);

        // from another earlier stage's output: a chain of rounds keeps one held-out set
        plan = validate(file(twoStages("    data: { train: train.jsonl, validation_from: stage-0,"
                + " validation_file: feedback/heldout/pairwise.jsonl }")), Map.of());
        assertEquals(0, plan.stages().get(1).data.validationFromStage);
        assertEquals(Path.of("feedback/heldout/pairwise.jsonl"), plan.stages().get(1).data.validationFile);
        assertEquals(-1, validate(file(twoStages("    data: { train: train.jsonl, validation_file: held.jsonl }")),
                Map.of()).stages().get(1).data.validationFromStage);
        String alone = error(twoStages("    data: { train: train.jsonl, validation_from: stage-0 }"));
        assertTrue(alone.startsWith(dir.resolve("x.yaml") + ": stages[1].data.validation_from: names the earlier"
                + " stage whose output holds validation_file"), alone);
        String later = error(twoStages("    data: { train: train.jsonl, validation_from: stage-1,"
                + " validation_file: a.jsonl }"));
        assertTrue(later.startsWith(dir.resolve("x.yaml") + ": stages[1].data.validation_from: \"stage-1\" is not an"
                + " earlier stage"), later);
        String up = error(twoStages("    data: { train: train.jsonl, validation_from: stage-0,"
                + " validation_file: ../a.jsonl }"));
        assertTrue(up.contains("must be a path inside the earlier stage's output folder"), up);

        // generated training examples (fresh questions for ppo) with the held-out file of an earlier stage
        plan = validate(file(twoStages("    data: { generate: { name: arithmetic, count: 50 },"
                + " validation_from: stage-0, validation_file: feedback/heldout/pairwise.jsonl }")), Map.of());
        assertEquals("arithmetic", plan.stages().get(1).data.generator);
        assertEquals(0, plan.stages().get(1).data.validationFromStage);
        assertEquals(Path.of("feedback/heldout/pairwise.jsonl"), plan.stages().get(1).data.validationFile);
        String split = error(twoStages("    data: { generate: { name: arithmetic, count: 50 },"
                + " validation_fraction: 0.1, validation_from: stage-0, validation_file: a.jsonl }"));
        assertTrue(split.startsWith(dir.resolve("x.yaml") + ": stages[1].data.validation_fraction: set either"), split);
    }
}
