package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.align4j.api.pipeline.PipelineRunner;
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

/**
 * One reward-model pipeline (a tiny pre-trained model, then a {@code reward} stage started from it) run with each of
 * the four loss families, chosen by configuration alone ({@code loss:} and the data file): every run trains, and its
 * family's held-out metric is better at the end than before the first step.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RewardFamiliesIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("reward-families");
    }

    @Test
    public void eachLossFamilyTrainsARewardModelByConfigurationAlone() throws Exception {
        Path dir = Align4jOptions.scratch("reward-families");
        Map<String, Path> data = feedback(dir);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, Align4jOptions.tinyRewardPipeline("run: { name: tiny-reward, seed: 5 }", 32,
                "    loss: bradley-terry",
                "    data: { train: '" + data.get("pairwise") + "' }",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5 }",
                "    steps: 60",
                "    batch: 8",
                "    eval: { every: 60, at_start: true }"));
        Map<String, String[]> families = Map.of(
                "pairwise", new String[] {"bradley-terry", "eval_accuracy"},
                "listwise", new String[] {"plackett-luce", "eval_kendall_tau"},
                "pointwise", new String[] {"mse", "eval_pearson"},
                "process", new String[] {"step-cross-entropy", "eval_step_f1"},
                "process+likelihood", new String[] {"step-cross-entropy", "eval_step_f1"},
                "process+reference", new String[] {"step-cross-entropy", "eval_step_f1"});
        for (Map.Entry<String, String[]> f : families.entrySet()) {
            boolean reference = f.getKey().endsWith("+reference");
            boolean likelihood = f.getKey().endsWith("+likelihood") || reference;
            String family = f.getKey().replaceAll("\\+.*", "");
            String loss = f.getValue()[0];
            String metric = f.getValue()[1];
            List<TrainingEvent> events = new CopyOnWriteArrayList<>();
            ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add,
                    null);
            PipelineRunner.RunReport report;
            try {
                // pairwise: held-out examples from a file of their own; the others: a split of the training file
                Map<String, String> overrides = new java.util.HashMap<>(Map.of("run.workdir",
                        dir.resolve("run-" + f.getKey().replace('+', '-')).toString(), "stages[1].loss",
                        loss, "stages[1].data.train", data.get(family).toString()));
                if (likelihood) {
                    overrides.put("stages[1].likelihood", reference ? "reference" : "true");
                }
                if (family.equals("pairwise")) {
                    overrides.put("stages[1].data.validation_file", data.get("pairwise-held").toString());
                } else {
                    overrides.put("stages[1].data.validation_fraction", "0.25");
                }
                report = pipelines.run(file, overrides);
            } finally {
                reg.unregister();
            }
            TrainingResult reward = report.stages().get(1);
            assertEquals(family, TrainingResult.Status.COMPLETED, reward.status());
            List<Double> values = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.EVALUATION
                    && "1:reward".equals(e.stage())).map(e -> e.metrics().get(metric)).collect(Collectors.toList());
            assertEquals(family + ": " + values, 2, values.size());
            System.out.println("reward model, " + f.getKey() + " (" + loss + "): " + metric + " " + values.get(0) + " -> "
                    + values.get(1));
            assertTrue(f.getKey() + ": " + metric + " did not improve: " + values, values.get(1) > values.get(0));
            String messages = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.MESSAGE)
                    .map(TrainingEvent::message).collect(Collectors.joining("\n"));
            assertTrue(messages, messages.contains("reward: " + family + " loss " + loss));
            assertTrue(Files.isRegularFile(reward.output().resolve("model.safetensors")));
            if (family.equals("pairwise")) {
                assertTrue(messages, events.stream().anyMatch(e -> e.kind() == TrainingEvent.Kind.MESSAGE
                        && e.message().contains("held-out data: 40 examples from " + data.get("pairwise-held"))));
            }
            if (family.equals("process")) {
                assertTrue(messages, messages.contains(likelihood
                        ? "cls_head.weight, reward.cls_head.bias, reward.cls_head.likelihood from the seed"
                        : "cls_head.weight, reward.cls_head.bias from the seed"));
                assertEquals(likelihood, Files.readString(reward.output().resolve("config.json")).contains(
                        "\"score_likelihood\" : true"));
                assertEquals(reference, Files.readString(reward.output().resolve("config.json")).contains(
                        "\"likelihood_reference\" : true"));
                // the frozen copy of the init model it scores with is written beside it, unchanged
                assertEquals(reference, Files.isRegularFile(reward.output().resolve("reference/model.safetensors")));
                if (reference) {
                    assertEquals(Files.readString(report.stages().get(0).output().resolve("config.json")),
                            Files.readString(reward.output().resolve("reference/config.json")));
                    org.junit.Assert.assertArrayEquals("the reference's weights are the init model's, untrained",
                            Files.readAllBytes(report.stages().get(0).output().resolve("model.safetensors")),
                            Files.readAllBytes(reward.output().resolve("reference/model.safetensors")));
                }
            }
        }
    }

    /**
     * Feedback of the four kinds on one-digit sums, with an easy signal (a right answer against a wrong one marked
     * as a guess), so a few steps show each family learning.
     */
    private static Map<String, Path> feedback(Path dir) throws Exception {
        Random r = new Random(11);
        List<String> pairwise = new ArrayList<>();
        List<String> listwise = new ArrayList<>();
        List<String> pointwise = new ArrayList<>();
        List<String> process = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            int a = r.nextInt(10);
            int b = r.nextInt(10);
            String prompt = "Q: " + a + "+" + b + "=?\\n";
            String right = "A: " + (a + b);
            String wrong = "A: " + (a + b + 1 + r.nextInt(3)) + " maybe?";
            String worse = "no idea, sorry";
            pairwise.add("{\"prompt\": \"" + prompt + "\", \"chosen\": \"" + right + "\", \"rejected\": \""
                    + (r.nextBoolean() ? wrong : worse) + "\"}");
            listwise.add("{\"prompt\": \"" + prompt + "\", \"completions\": [\"" + worse + "\", \"" + right + "\", \""
                    + wrong + "\"], \"ranking\": [1, 2, 0]}");
            boolean good = r.nextBoolean();
            pointwise.add("{\"prompt\": \"" + prompt + "\", \"completion\": \"" + (good ? right : worse)
                    + "\", \"score\": " + (good ? 5 : 1) + "}");
            boolean ok = r.nextBoolean();
            process.add("{\"prompt\": \"" + prompt + "\", \"completions\": [\"" + a + "+" + b + "="
                    + (ok ? a + b : (a + b + 1) + " oops") + "\", \"" + (ok ? right : wrong) + "\"], \"labels\": ["
                    + (ok ? "true, true" : "false, false") + "]}");
        }
        Map<String, Path> files = new java.util.HashMap<>();
        List<String> held = new ArrayList<>(pairwise.subList(120, 160));
        pairwise = new ArrayList<>(pairwise.subList(0, 120));
        for (Map.Entry<String, List<String>> e : Map.of("pairwise", pairwise, "pairwise-held", held, "listwise",
                listwise, "pointwise", pointwise, "process", process).entrySet()) {
            Path f = dir.resolve(e.getKey() + ".jsonl");
            Files.write(f, e.getValue());
            files.put(e.getKey(), f);
        }
        return files;
    }
}
