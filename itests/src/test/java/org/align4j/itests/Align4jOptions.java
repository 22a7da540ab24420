package org.align4j.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.ops4j.pax.exam.Option;

/**
 * The one place that says what an in-framework test runs on: Felix with every bundle of the assembled
 * distribution ({@code distribution/target/align4j/bundle}), exactly what {@code bin/align4j} starts.
 */
public final class Align4jOptions {
    private Align4jOptions() {
    }

    /** The distribution folder the build assembled. */
    public static Path distribution() {
        String d = System.getProperty("align4j.dist");
        if (d == null) {
            throw new IllegalStateException("system property align4j.dist is not set (run the itests through Maven)");
        }
        return Paths.get(d).toAbsolutePath().normalize();
    }

    /** A folder under {@code itests/target} for one test's files, emptied first (runs there would resume). */
    public static Path scratch(String name) {
        Path p = Paths.get("target", "scratch", name).toAbsolutePath();
        try {
            if (Files.exists(p)) {
                try (Stream<Path> all = Files.walk(p)) {
                    all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    public static Option[] config(String testName) {
        List<Option> o = new ArrayList<>();
        o.add(junitBundles());
        o.add(cleanCaches(true));
        o.add(workingDirectory("target/paxexam/" + testName));
        try (Stream<Path> jars = Files.list(distribution().resolve("bundle"))) {
            for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).sorted().collect(Collectors.toList())) {
                // no interactive shell where nobody types (its profile script fails without a terminal)
                boolean shell = jar.getFileName().toString().startsWith("org.apache.felix.gogo.jline");
                o.add(bundle(jar.toUri().toString()).start(!shell));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the distribution's bundles: " + e, e);
        }
        o.add(frameworkProperty("org.osgi.framework.bootdelegation").value("sun.*,com.sun.*,jdk.internal.*"));
        o.add(frameworkProperty("gosh.args").value("--nointeractive --noshutdown"));
        o.add(frameworkProperty("felix.fileinstall.dir").value(scratch(testName + "-deploy").toString()));
        o.add(frameworkProperty("felix.fileinstall.log.level").value("1"));
        o.add(frameworkProperty("felix.log.level").value("1"));
        o.add(systemProperty("org.bytedeco.javacpp.cachedir")
                .value(System.getProperty("org.bytedeco.javacpp.cachedir")));
        return options(o.toArray(new Option[0]));
    }

    /**
     * A pipeline of a tiny pre-training stage and a reward stage started from it ({@code init: stage-0}): the
     * {@code run:} line, the model's context, then the reward stage's own lines (loss, data, optimizer, ...).
     */
    public static String tinyRewardPipeline(String runLine, int context, String... rewardLines) {
        List<String> later = new ArrayList<>(List.of("  - trainer: reward", "    init: stage-0"));
        later.addAll(List.of(rewardLines));
        return tinyPretrainThen(runLine, context, later.toArray(new String[0]));
    }

    /**
     * A pipeline of a tiny pre-training stage (1 layer, d_model 32, 20 steps on arithmetic equations up to 9), then
     * the stages given as their lines ({@code "  - trainer: ppo"}, {@code "    init: stage-0"}, ...); none for the
     * pre-training alone.
     */
    public static String tinyPretrainThen(String runLine, int context, String... laterStageLines) {
        List<String> lines = new ArrayList<>(List.of(runLine,
                "model: { layers: 1, d_model: 32, heads: 2, context: " + context + " }",
                "data:",
                "  generate: { name: arithmetic, count: 1500, max_operand: 9 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3 }",
                "    steps: 20",
                "    batch: 8"));
        lines.addAll(List.of(laterStageLines));
        lines.add("");
        return String.join("\n", lines);
    }

    /**
     * A PPO stage after {@link #tinyPretrainThen}'s pre-training stage, scoring with {@code rewardModel}, two prompts
     * of two samples per rollout, long enough (100,000 steps) to be stopped by the test.
     */
    public static String[] tinyPpoStage(String rewardModel) {
        return new String[] {
            "  - trainer: ppo",
            "    init: stage-0",
            "    data:",
            "      generate: { name: arithmetic, format: prompt-completion, max_operand: 9, count: 200 }",
            "      validation_fraction: 0",
            "    reward_model: " + rewardModel,
            "    loss: ppo-clip",
            "    rollout: { prompts: 2, samples: 2, max_tokens: 8 }",
            "    epochs: 1",
            "    batch: 4",
            "    optimizer: { name: adamw, lr: 1.0e-4, schedule: constant }",
            "    steps: 100000",
            "    exact_match: { samples: 0 }"};
    }

    /** A small pre-training pipeline file, fast enough for a test, written to {@code dir/pipeline.yaml}. */
    public static Path tinyPipeline(Path dir, String attention, int steps) throws IOException {
        String yaml = String.join("\n",
                "run: { name: tiny, workdir: '" + dir.resolve("run") + "', seed: 3 }",
                "model: { layers: 1, d_model: 64, heads: 2, context: 16, attention: " + attention + " }",
                "data:",
                "  generate: { name: arithmetic, count: 3000, max_operand: 20 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5, schedule: cosine, clip_norm: 1.0 }",
                "    steps: " + steps,
                "    batch: 16",
                "    log_every: 1",
                "    eval: { every: 20, batches: 4 }",
                "    checkpoint: { every: 20, keep: 2 }",
                "    sample: { count: 2, max_tokens: 8, prompts: ['3+'] }",
                "");
        Files.createDirectories(dir);
        Path f = dir.resolve("pipeline.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    /**
     * A tiny pre-training stage followed by a tiny SFT stage started from it ({@code init: stage-0}), written to
     * {@code dir/pipeline.yaml}: the SFT stage logs every step and checkpoints every 20 steps.
     */
    public static Path tinySftPipeline(Path dir, int pretrainSteps, int sftSteps) throws IOException {
        String yaml = String.join("\n",
                "run: { name: tiny-sft, workdir: '" + dir.resolve("run") + "', seed: 3 }",
                "model: { layers: 1, d_model: 32, heads: 2, context: 48 }",
                "data:",
                "  generate: { name: arithmetic, count: 1000, max_operand: 20 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5, clip_norm: 1.0 }",
                "    steps: " + pretrainSteps,
                "    batch: 8",
                "    sample: { count: 1, max_tokens: 4, prompts: ['3+'] }",
                "  - trainer: sft",
                "    init: stage-0",
                "    data:",
                "      generate: { name: arithmetic, format: prompt-completion, count: 200, digits: 1, ops: '+' }",
                "      validation_fraction: 0.1",
                "    task: arithmetic",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5, clip_norm: 1.0 }",
                "    steps: " + sftSteps,
                "    batch: 8",
                "    log_every: 1",
                "    checkpoint: { every: 20, keep: 2 }",
                "    exact_match: { samples: 4, max_tokens: 24 }",
                "    sample: { count: 1 }",
                "");
        Files.createDirectories(dir);
        Path f = dir.resolve("pipeline.yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
