package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
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
 * Best-of-N in one pipeline, in real Felix with FileInstall: a tiny reward model is trained, packaged and deployed
 * ({@code package-reward} with {@code deploy: true}), and a {@code best-of-n} stage after it finds it by name,
 * keeps the best of 4 samples per prompt and writes them as an SFT dataset. A second pipeline deploys version 2 of
 * the same name: the next best-of-N call uses it; once its jar is deleted, the next call is back on version 1.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BestOfNIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("best-of-n");
    }

    private List<TrainingEvent> run(Path file, Map<String, String> overrides, List<TrainingResult> out)
            throws Exception {
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add, null);
        try {
            out.addAll(pipelines.run(file, overrides).stages());
        } finally {
            reg.unregister();
        }
        return events;
    }

    /** The reward models that scored the best-of-n stage's groups, as its progress rows name them. */
    private static List<String> scoredBy(List<TrainingEvent> events, String stage) {
        return events.stream().filter(e -> e.kind() == TrainingEvent.Kind.STEP && stage.equals(e.stage())
                && e.message() != null && e.message().startsWith("scored by ")).map(e -> e.message().substring(10,
                        e.message().indexOf(" [")).trim()).distinct().collect(Collectors.toList());
    }

    @Test
    public void bestOfNPicksWithTheNewestDeployedRewardModel() throws Exception {
        Path dir = Align4jOptions.scratch("best-of-n");
        Path deploy = Paths.get(context.getProperty("felix.fileinstall.dir"));
        Random r = new Random(7);
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            int a = r.nextInt(10);
            int b = r.nextInt(10);
            pairs.add("{\"prompt\": \"Q: " + a + "+" + b + "=?\\n\", \"chosen\": \"A: " + (a + b)
                    + "\", \"rejected\": \"no idea, sorry\"}");
        }
        Files.write(dir.resolve("pairs.jsonl"), pairs);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, String.join("\n",
                "run: { name: tiny-bon, seed: 5 }",
                "model: { layers: 1, d_model: 32, heads: 2, context: 32 }",
                "data:",
                "  generate: { name: arithmetic, count: 1500, max_operand: 9 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3 }",
                "    steps: 20",
                "    batch: 8",
                "  - trainer: reward",
                "    init: stage-0",
                "    data: { train: '" + dir.resolve("pairs.jsonl") + "' }",
                "    loss: bradley-terry",
                "    optimizer: { name: adamw, lr: 3.0e-3 }",
                "    steps: 10",
                "    batch: 8",
                "  - trainer: package-reward",
                "    init: stage-1",
                "    name: bon-rm",
                "    version: 1",
                "    deploy: true",
                "  - trainer: best-of-n",
                "    init: stage-0",
                "    data: { generate: { name: arithmetic, format: prompt-completion, count: 20, max_operand: 9 } }",
                "    reward_model: bon-rm",
                "    task: arithmetic",
                "    samples: 4",
                "    temperature: 1.0",
                "    max_tokens: 8",
                ""));
        List<TrainingResult> first = new ArrayList<>();
        List<TrainingEvent> events = run(file, Map.of("run.workdir", dir.resolve("v1").toString()), first);
        Path v1 = deploy.resolve("bon-rm-1.jar");
        assertTrue("deployed: " + v1, Files.isRegularFile(v1));
        TrainingResult bon = first.get(3);
        assertEquals(TrainingResult.Status.COMPLETED, bon.status());
        List<String> best = Files.readAllLines(bon.output().resolve("best.jsonl"));
        assertEquals("one per prompt", bon.step(), best.size());
        assertTrue(best.size() >= 15);
        assertTrue(best.get(0), best.get(0).startsWith("{\"prompt\": \"Q: "));
        Map<String, Double> m = bon.metrics();
        System.out.println("best-of-n (tiny policy): " + m);
        assertTrue(m.toString(), m.get("oracle_exact_match") >= m.get("best_of_n_exact_match"));
        assertTrue(m.toString(), m.get("oracle_exact_match") >= m.get("single_exact_match"));
        assertEquals(List.of("bon-rm 1"), scoredBy(events, "3:best-of-n"));

        // version 2 of the same name, deployed by a second run: the next call picks it, the newest
        List<TrainingResult> second = new ArrayList<>();
        events = run(file, Map.of("run.workdir", dir.resolve("v2").toString(), "stages[2].version", "2"), second);
        assertEquals(List.of("bon-rm 2"), scoredBy(events, "3:best-of-n"));
        // its jar deleted, the next call is back on version 1
        Files.delete(deploy.resolve("bon-rm-2.jar"));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!context.getServiceReferences(org.align4j.api.reward.RewardModel.class, "(align4j.version=2)").isEmpty()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        List<TrainingResult> third = new ArrayList<>();
        events = run(file, Map.of("run.workdir", dir.resolve("v2").toString(), "stages[2].version", "2",
                "stages[2].deploy", "false"), third);
        assertEquals(List.of("bon-rm 1"), scoredBy(events, "3:best-of-n"));
        Files.delete(v1);
    }
}
