package org.align4j.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.inject.Inject;

import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.Scored;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

/**
 * Reward models made by configuration alone, as users deploy them: a {@code .cfg} file in the FileInstall folder for
 * a learned reward model (a trained model folder) and one for an ensemble over every reward model of an aspect. The
 * ensemble combines the learned model and the task's verifier, reports each member's scores, and loses the learned
 * member when its file is deleted.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RewardConfigIT {
    private static final String TEST = "reward-config";

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Inject
    private RewardModels rewards;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config(TEST);
    }

    @Test
    public void learnedAndEnsembleRewardModelsComeFromConfigurationFiles() throws Exception {
        Path dir = Align4jOptions.scratch("reward-config-run");
        Path deploy = Paths.get(context.getProperty("felix.fileinstall.dir"));
        Path model = pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("a"), "mha", 5), Map.of()).stages().get(0)
                .output();

        Path learned = deploy.resolve("org.align4j.reward.learned-judge.cfg");
        Files.writeString(learned, "folder = " + model.toString().replace("\\", "/") + "\n"
                + "name = cfg-judge\nversion = 1.2\naspect = correctness\n", StandardCharsets.UTF_8);
        await(() -> versions("cfg-judge").equals(List.of("1.2")),
                () -> "the learned reward model of " + learned + " never registered: " + rewards.models(null));

        List<PromptCompletion> batch = List.of(new PromptCompletion("Q: 3+4=?\n", "1. 3+4=7, write 7\nA: 7"),
                new PromptCompletion("Q: 3+4=?\n", "1. 3+4=8, write 8\nA: 8"),
                new PromptCompletion("Q: 12-5=?\n", "A: 7"));
        Scored judged = rewards.lease("cfg-judge", Optional.empty()).score(batch);
        assertEquals("1.2", judged.model().version());
        assertEquals(3, judged.scores().size());
        for (float s : judged.scores().scores()) {
            assertTrue("a learned score is not finite: " + s, Float.isFinite(s));
        }

        Path ensemble = deploy.resolve("org.align4j.reward.ensemble-panel.cfg");
        Files.writeString(ensemble, "name = panel\nversion = 3\nmembers = (align4j.aspect=correctness)\n"
                + "combine = mean\n", StandardCharsets.UTF_8);
        await(() -> versions("panel").equals(List.of("3")),
                () -> "the ensemble of " + ensemble + " never registered: " + rewards.models(null));

        Scored panel = rewards.lease("panel", Optional.empty()).score(batch);
        assertEquals("3", panel.model().version());
        Map<String, float[]> members = panel.scores().members();
        assertEquals(members.keySet().toString(), 2, members.size());
        float[] verifier = members.get("arithmetic-verifier");
        assertArrayEquals(new float[] {1f, 0f, 1f}, verifier, 0f);
        assertArrayEquals(judged.scores().scores(), members.get("cfg-judge"), 1e-5f);
        for (int i = 0; i < batch.size(); i++) {
            double mean = (verifier[i] + (double) judged.scores().scores()[i]) / 2;
            assertEquals("the mean of the members at " + i, mean, panel.scores().scores()[i], 1e-5);
        }

        Files.delete(learned);
        await(() -> versions("cfg-judge").isEmpty(), () -> "cfg-judge stayed after its file was deleted");
        Scored alone = rewards.lease("panel", Optional.empty()).score(batch);
        assertEquals(List.of("arithmetic-verifier"), new ArrayList<>(alone.scores().members().keySet()));
        assertArrayEquals(new float[] {1f, 0f, 1f}, alone.scores().scores(), 0f);

        Files.delete(ensemble);
        await(() -> versions("panel").isEmpty(), () -> "the ensemble stayed after its file was deleted");
    }

    @Test
    public void aLikelihoodRewardModelScoresAsItsStageDid() throws Exception {
        servedAsInTheStage("true", "likely");
    }

    @Test
    public void aRewardModelWithAFrozenReferenceScoresAsItsStageDid() throws Exception {
        servedAsInTheStage("reference", "likelyref");
    }

    @Test
    public void aStepCreditRewardModelScoresAsItsStageDid() throws Exception {
        // a tiny reference finds every token unlikely: scores near 0, compared relatively
        servedAsInTheStage("true", "credited", "    score: step-credit");
        servedAsInTheStage("reference", "creditedref", "    score: step-credit",
                "  - trainer: package-reward", // the pipeline packages it as a bundle too
                "    init: stage-1",
                "    name: credited-jar",
                "    version: 3",
                "    aspect: correctness");
    }

    /**
     * A reward stage with {@code likelihood: <likelihood>} (and the stage lines {@code more}); its model, served from a
     * .cfg, scores as the stage did; with a {@code package-reward} stage after it, so does the jar that stage writes,
     * copied into {@code deploy/}.
     */
    private void servedAsInTheStage(String likelihood, String name, String... more) throws Exception {
        Path dir = Align4jOptions.scratch("reward-likelihood-" + name);
        Path deploy = Paths.get(context.getProperty("felix.fileinstall.dir"));
        List<String[]> held = new ArrayList<>(); // prompt, chosen, rejected
        List<String> train = new ArrayList<>();
        for (int a = 1; a <= 9; a++) {
            for (int b = 1; b <= 3; b++) {
                String prompt = "Q: " + a + "+" + b + "=?\\n";
                String right = "1. " + a + "+" + b + "=" + (a + b) + ", write " + (a + b) + "\\nA: " + (a + b);
                String wrong = "1. " + a + "+" + b + "=" + (a + b + 1) + "\\nA: " + (a + b + 1);
                String line = "{\"prompt\": \"" + prompt + "\", \"chosen\": \"" + right + "\", \"rejected\": \""
                        + wrong + "\"}";
                if (b == 3) {
                    held.add(new String[] {prompt.replace("\\n", "\n"), right.replace("\\n", "\n"),
                            wrong.replace("\\n", "\n")});
                    Files.writeString(dir.resolve("held.jsonl"), line + "\n", StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                } else {
                    train.add(line);
                }
            }
        }
        Files.write(dir.resolve("train.jsonl"), train, StandardCharsets.UTF_8);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, Align4jOptions.tinyRewardPipeline(
                "run: { name: tiny-likelihood, workdir: '" + dir.resolve("run") + "', seed: 5 }", 48,
                "    loss: bradley-terry",
                "    likelihood: " + likelihood,
                more.length > 0 ? more[0] : "",
                "    data: { train: '" + dir.resolve("train.jsonl") + "', validation_file: '" + dir.resolve("held.jsonl")
                        + "' }",
                "    optimizer: { name: adamw, lr: 1.0e-3 }",
                "    steps: 10",
                "    batch: 8",
                String.join("\n", java.util.Arrays.asList(more).subList(Math.min(1, more.length), more.length))),
                StandardCharsets.UTF_8);
        List<org.align4j.api.train.TrainingResult> stages = pipelines.run(file, Map.of()).stages();
        org.align4j.api.train.TrainingResult reward = stages.get(1);
        assertTrue(Files.readString(reward.output().resolve("config.json")).contains("\"score_likelihood\" : true"));
        assertEquals(likelihood.equals("reference"), Files.isRegularFile(reward.output().resolve(
                "reference/model.safetensors")));
        assertEquals(more.length > 0, Files.readString(reward.output().resolve("config.json")).contains(
                "\"step_credit\" : true"));
        double margin = reward.metrics().get("eval_margin"); // the stage's mean of r_chosen - r_rejected, held out

        Path cfg = deploy.resolve("org.align4j.reward.learned-" + name + ".cfg");
        Files.writeString(cfg, "folder = " + reward.output().toString().replace("\\", "/") + "\nname = " + name
                + "\n", StandardCharsets.UTF_8);
        try {
            await(() -> versions(name).equals(List.of("1")), () -> "never registered: " + rewards.models(null));
            List<PromptCompletion> chosen = new ArrayList<>();
            List<PromptCompletion> rejected = new ArrayList<>();
            for (String[] h : held) {
                chosen.add(new PromptCompletion(h[0], h[1]));
                rejected.add(new PromptCompletion(h[0], h[2]));
            }
            RewardModels.Lease lease = rewards.lease(name, Optional.empty());
            float[] c = lease.score(chosen).scores().scores();
            float[] r = lease.score(rejected).scores().scores();
            double served = 0;
            for (int i = 0; i < c.length; i++) {
                served += c[i] - r[i];
            }
            served /= c.length;
            System.out.printf("held-out margin (%s, likelihood: %s): %.9g in the stage, %.9g from the service%n", name,
                    likelihood, margin, served);
            assertEquals("the service scores as the stage did", margin, served, 1e-4 * Math.abs(margin) + 1e-9);
            if (stages.size() > 2) { // the jar the package-reward stage wrote, with the model's reference inside
                Path jar = stages.get(2).output();
                assertEquals("credited-jar-3.jar", jar.getFileName().toString());
                try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
                    assertTrue(j.getJarEntry("reward-model/reference/model.safetensors") != null);
                }
                Path tmp = dir.resolve("credited-jar-3.jar"); // whole before FileInstall sees it
                Files.copy(jar, tmp);
                Path deployed = Files.move(tmp, deploy.resolve("credited-jar-3.jar"),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                try {
                    await(() -> versions("credited-jar").equals(List.of("3")), () -> "the packaged jar never"
                            + " registered: " + rewards.models(null));
                    RewardModels.Lease jarLease = rewards.lease("credited-jar", Optional.empty());
                    float[] jc = jarLease.score(chosen).scores().scores();
                    float[] jr = jarLease.score(rejected).scores().scores();
                    org.junit.Assert.assertArrayEquals("the deployed jar scores as the folder", c, jc, 0f);
                    org.junit.Assert.assertArrayEquals(r, jr, 0f);
                    System.out.println("package-reward stage: " + jar + " registered as credited-jar 3 and scores"
                            + " as its folder");
                } finally {
                    Files.delete(deployed);
                    await(() -> versions("credited-jar").isEmpty(), () -> "the jar's model stayed after deletion");
                }
            }
        } finally {
            Files.delete(cfg);
        }
    }

    private List<String> versions(String name) {
        List<String> out = new ArrayList<>();
        for (RewardModelInfo m : rewards.models("(" + RewardModel.NAME + "=" + name + ")")) {
            out.add(m.version());
        }
        out.sort(null);
        return out;
    }

    private static void await(BooleanSupplier condition, java.util.function.Supplier<String> message)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(message.get());
            }
            Thread.sleep(100);
        }
    }
}
