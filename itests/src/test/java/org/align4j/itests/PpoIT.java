package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import javax.inject.Inject;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.train.TrainingResult;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * PPO with its reward model swapped while it trains, in the real framework: a packaged reward model (version 1)
 * dropped into the FileInstall folder scores the first rollouts; version 2 dropped in and version 1 taken out take over
 * at a rollout boundary, and the metrics name the version; a ConfigAdmin update of the running stage re-targets it to
 * another reward model; with none left the run pauses, and goes on when one is registered again. One run, one stage,
 * never restarted.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PpoIT {
    private static final String TEST = "ppo";
    private static final String RUN = "ppo-swap";

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Inject
    private RewardModels rewards;

    @Inject
    private ConfigurationAdmin configs;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config(TEST);
    }

    /** A tiny pre-training stage; with {@code ppo}, a PPO stage after it, long enough to be stopped by the test. */
    private static Path pipeline(Path dir, boolean ppo) throws Exception {
        String runLine = "run: { name: " + RUN + ", workdir: '" + dir.resolve("run") + "', seed: 5 }";
        String yaml = !ppo ? Align4jOptions.tinyPretrainThen(runLine, 32) : Align4jOptions.tinyPretrainThen(runLine, 32,
                Align4jOptions.tinyPpoStage("judge"));
        Path file = dir.resolve(ppo ? "ppo.yaml" : "pretrain.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    public void rewardModelsAreSwappedWhilePpoRuns() throws Exception {
        Path dir = Align4jOptions.scratch("ppo-run");
        Path deploy = java.nio.file.Paths.get(context.getProperty("felix.fileinstall.dir"));
        Path model = pipelines.run(pipeline(dir, false), Map.of()).stages().get(0).output();
        for (String version : List.of("1", "2")) {
            DistributionRuns.Ended packaged = DistributionRuns.command(dir, "package-" + version, 120,
                    "package-reward", model.toString(), "--name", "judge", "--version", version, "--out",
                    dir.resolve("judge-" + version + ".jar").toString());
            assertEquals(packaged.out() + packaged.err(), 0, packaged.exit());
        }
        Files.copy(dir.resolve("judge-1.jar"), deploy.resolve("judge-1.jar"));
        await(() -> rewards.models("(align4j.name=judge)").size() == 1, "judge 1 was not registered");

        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> listener = context.registerService(TrainingListener.class, e -> {
            if (e.run().equals(RUN) && e.stage().endsWith(":ppo")) {
                events.add(e);
            }
        }, null);
        List<Object> outcome = new CopyOnWriteArrayList<>();
        Thread running = new Thread(() -> {
            try {
                outcome.add(pipelines.run(pipeline(dir, true), Map.of()));
            } catch (Throwable t) {
                outcome.add(t);
            }
        }, "ppo-run");
        running.start();
        ServiceRegistration<RewardModel> constant = null;
        try {
            // version 1 scores the first rollouts
            awaitStep(events, "judge 1");
            // version 2 in, version 1 out: the next rollout is scored by version 2
            Files.copy(dir.resolve("judge-2.jar"), deploy.resolve("judge-2.jar"));
            Files.delete(deploy.resolve("judge-1.jar"));
            awaitStep(events, "judge 2");
            TrainingEvent swap = first(events, e -> e.kind() == TrainingEvent.Kind.SWAP);
            assertTrue(swap.message(), swap.message().contains("judge 1") && swap.message().contains("judge 2"));
            // one update per iteration: every step is a rollout boundary; the labels change once, at the swap
            String seen = "judge 1";
            for (TrainingEvent e : events) {
                if (e.kind() == TrainingEvent.Kind.STEP) {
                    String label = e.labels().get("reward_model");
                    if (!label.equals(seen)) {
                        assertEquals("judge 2", label);
                        assertTrue("the first step scored by version 2 (" + e.step() + ") follows the swap ("
                                + swap.step() + ")", e.step() == swap.step() + 1);
                        seen = label;
                    }
                }
            }

            // re-target the running stage to another reward model by updating its configuration
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(RewardModel.NAME, "constant");
            props.put(RewardModel.VERSION, "7");
            RewardModel fixed = batch -> RewardScores.of(new float[batch.size()]);
            constant = context.registerService(RewardModel.class, fixed, props);
            org.osgi.service.cm.Configuration[] stage = configs.listConfigurations(
                    "(service.factoryPid=org.align4j.trainer.ppo)");
            assertTrue("the running PPO stage has a configuration", stage != null && stage.length == 1);
            Dictionary<String, Object> update = stage[0].getProperties();
            update.put("stage.reward_model", "constant");
            stage[0].update(update);
            awaitStep(events, "constant 7");
            assertTrue(events.stream().anyMatch(e -> e.kind() == TrainingEvent.Kind.SWAP
                    && e.message().contains("re-targeted from judge to constant")));

            // no reward model at all: the run pauses, and goes on when one is registered
            constant.unregister();
            constant = null;
            await(() -> events.stream().anyMatch(e -> e.kind() == TrainingEvent.Kind.WARNING
                    && e.message().contains("no reward model constant is registered")), "the run did not pause");
            long pausedAt = steps(events);
            Thread.sleep(1500);
            assertEquals("no step while paused", pausedAt, steps(events));
            constant = context.registerService(RewardModel.class, fixed, props);
            await(() -> steps(events) > pausedAt + 3, "the run did not go on");
            assertTrue("never restarted", events.stream().filter(e -> e.kind() == TrainingEvent.Kind.STAGE_STARTED)
                    .count() == 1);
        } finally {
            pipelines.stop(RUN, "the test is done");
            running.join(120_000);
            listener.unregister();
            if (constant != null) {
                constant.unregister();
            }
            Files.deleteIfExists(deploy.resolve("judge-2.jar"));
        }
        assertEquals(1, outcome.size());
        if (outcome.get(0) instanceof Throwable) {
            throw new AssertionError("the run failed", (Throwable) outcome.get(0));
        }
        PipelineRunner.RunReport report = (PipelineRunner.RunReport) outcome.get(0);
        assertEquals(TrainingResult.Status.STOPPED, report.stages().get(report.stages().size() - 1).status());
    }

    /**
     * A reward model that pays for length, the verifier as the monitor's judge: as the policy learns to write more,
     * its answers go wrong, and the monitor pauses the run within its window with a checkpoint.
     */
    @Test
    public void theMonitorPausesARunThatHacksALengthReward() throws Exception {
        Path dir = Align4jOptions.scratch("ppo-hack");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RewardModel.NAME, "length");
        props.put(RewardModel.VERSION, "1");
        ServiceRegistration<RewardModel> length = context.registerService(RewardModel.class, batch -> {
            float[] s = new float[batch.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = batch.get(i).completion().length() / 20f;
            }
            return RewardScores.of(s);
        }, props);
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> listener = context.registerService(TrainingListener.class, e -> {
            if (e.run().equals("ppo-hack") && e.stage().endsWith(":ppo")) {
                events.add(e);
            }
        }, null);
        PipelineRunner.RunReport report;
        try {
            Path file = dir.resolve("hack.yaml");
            Files.writeString(file, String.join("\n",
                    // seed 7: with step 7's rounding, seed 5's judge fell to 0 within the monitor's first window
                    // and stayed there, so no window saw both trends; seeds 6 to 11 all pause
                    "run: { name: ppo-hack, workdir: '" + dir.resolve("run") + "', seed: 7 }",
                    "model: { layers: 1, d_model: 48, heads: 2, context: 40 }",
                    "data:",
                    "  generate: { name: arithmetic, format: text, count: 3000, max_operand: 9, ops: '+' }",
                    "  validation_fraction: 0.05",
                    "  tokenizer: { type: bpe, vocab: 300 }",
                    "stages:",
                    "  - trainer: pretrain",
                    "    loss: causal-lm",
                    "    optimizer: { name: adamw, lr: 3.0e-3 }",
                    "    steps: 300",
                    "    batch: 16",
                    "  - trainer: sft",
                    "    init: stage-0",
                    "    data:",
                    "      generate: { name: arithmetic, format: prompt-completion, max_operand: 9, ops: '+',"
                            + " count: 400 }",
                    "      validation_fraction: 0.1",
                    "    task: arithmetic",
                    "    loss: causal-lm",
                    "    optimizer: { name: adamw, lr: 2.0e-3 }",
                    "    steps: 200",
                    "    batch: 16",
                    "    exact_match: { samples: 0 }",
                    "  - trainer: ppo",
                    "    init: stage-1",
                    "    data:",
                    "      generate: { name: arithmetic, format: prompt-completion, max_operand: 9, ops: '+',"
                            + " count: 400 }",
                    "      validation_fraction: 0",
                    "    reward_model: length",
                    "    monitor: { judge: arithmetic-verifier, window: 5, pause: true }",
                    "    loss: ppo-clip",
                    "    rollout: { prompts: 16, samples: 4, max_tokens: 24 }",
                    "    epochs: 2",
                    "    batch: 32",
                    "    kl: { coef: 0.01 }",
                    "    optimizer: { name: adamw, lr: 1.0e-3, schedule: constant }",
                    "    steps: 400",
                    "    exact_match: { samples: 0 }",
                    ""));
            report = pipelines.run(file, Map.of());
        } finally {
            listener.unregister();
            length.unregister();
        }
        TrainingResult ppo = report.stages().get(2);
        List<TrainingEvent> warnings = new ArrayList<>();
        events.forEach(e -> {
            if (e.kind() == TrainingEvent.Kind.WARNING) {
                warnings.add(e);
            }
        });
        StringBuilder curve = new StringBuilder();
        events.forEach(e -> {
            if (e.kind() == TrainingEvent.Kind.STEP && e.metrics().containsKey("monitor/judge_scores")) {
                curve.append(String.format(java.util.Locale.ROOT, " %d: length %.1f judge %.2f;", e.step(),
                        e.metrics().get("monitor/length"), e.metrics().get("monitor/judge_scores")));
            }
        });
        System.out.println("ppo against a length reward:" + curve);
        List<double[]> seen = new ArrayList<>(); // per iteration: length, judge
        events.forEach(e -> {
            if (e.kind() == TrainingEvent.Kind.STEP && e.metrics().containsKey("monitor/judge_scores")
                    && (seen.isEmpty() || seen.get(seen.size() - 1)[2] != e.metrics().get("iteration"))) {
                seen.add(new double[] {e.metrics().get("monitor/length"), e.metrics().get("monitor/judge_scores"),
                        e.metrics().get("iteration")});
            }
        });
        assertEquals("the monitor paused the run:" + curve, TrainingResult.Status.STOPPED, ppo.status());
        assertEquals(warnings.toString(), 1, warnings.size());
        assertTrue(warnings.get(0).message(), warnings.get(0).message().startsWith("possible reward hacking"));
        assertTrue("it stopped at the warning's rollout", ppo.step() == warnings.get(0).step());
        assertTrue(ppo.output() + " is a checkpoint", Files.isDirectory(ppo.output()));
        // it fired on hacking, not on noise: the answers grew longer and the judge's score fell from its start
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("mean length ([0-9.]+) tokens")
                .matcher(warnings.get(0).message());
        assertTrue(warnings.get(0).message(), m.find());
        double lengthThen = Double.parseDouble(m.group(1));
        assertTrue("longer answers at the warning (" + lengthThen + ") than at the start:" + curve,
                lengthThen > seen.get(0)[0] + 2);
        double judgeLate = seen.get(seen.size() - 1)[1];
        assertTrue("the judge fell from its start:" + curve, judgeLate < seen.get(0)[1]);
    }

    private static long steps(List<TrainingEvent> events) {
        return events.stream().filter(e -> e.kind() == TrainingEvent.Kind.STEP).count();
    }

    private static TrainingEvent first(List<TrainingEvent> events, Predicate<TrainingEvent> p) {
        return events.stream().filter(p).findFirst().orElseThrow(() -> new AssertionError("no such event in "
                + events.size()));
    }

    private static void awaitStep(List<TrainingEvent> events, String rewardModel) throws Exception {
        await(() -> events.stream().anyMatch(e -> e.kind() == TrainingEvent.Kind.STEP
                && rewardModel.equals(e.labels().get("reward_model"))), "no step scored by " + rewardModel);
    }

    private static void await(java.util.function.BooleanSupplier condition, String message) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(message);
            }
            Thread.sleep(50);
        }
    }
}
