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
 * One DPO pipeline (a tiny pre-trained model, then a {@code dpo} stage started from it against a frozen copy) run
 * with each preference loss, chosen by configuration alone ({@code loss:}): every run trains the policy toward the
 * chosen answers (TRL's {@code rewards/margins} grows on held-out pairs) and reports the loss's metrics and the
 * held-out exact match judged by the task.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DpoIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("dpo");
    }

    @Test
    public void eachPreferenceLossTrainsThePolicyByConfigurationAlone() throws Exception {
        Path dir = Align4jOptions.scratch("dpo");
        Random r = new Random(3);
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            int a = r.nextInt(10);
            int b = r.nextInt(10);
            pairs.add("{\"prompt\": \"Q: " + a + "+" + b + "=?\\n\", \"chosen\": \"A: " + (a + b)
                    + "\", \"rejected\": \"" + (r.nextBoolean() ? "A: " + (a + b + 1) + " maybe?" : "no idea, sorry")
                    + "\"}");
        }
        Files.write(dir.resolve("train.jsonl"), pairs.subList(0, 120));
        Files.write(dir.resolve("held.jsonl"), pairs.subList(120, 160));
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, String.join("\n",
                "run: { name: tiny-dpo, seed: 5 }",
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
                "  - trainer: dpo",
                "    init: stage-0",
                "    data: { train: '" + dir.resolve("train.jsonl") + "', validation_file: '"
                        + dir.resolve("held.jsonl") + "' }",
                "    task: arithmetic",
                "    loss: { name: dpo }",
                "    beta: 0.5",
                "    optimizer: { name: adamw, lr: 2.0e-3, warmup: 5 }",
                "    steps: 40",
                "    batch: 8",
                "    eval: { every: 40, at_start: true }",
                "    exact_match: { samples: 8, max_tokens: 8 }",
                ""));
        Map<String, Double> finalMargins = new java.util.HashMap<>();
        List<String> losses = List.of("dpo", "ipo", "dpo-hinge", "robust-dpo", "dpop");
        for (String loss : losses) {
            List<TrainingEvent> events = new CopyOnWriteArrayList<>();
            ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add,
                    null);
            PipelineRunner.RunReport report;
            try {
                Map<String, String> overrides = new java.util.HashMap<>(Map.of("run.workdir",
                        dir.resolve("run-" + loss).toString(), "stages[1].loss.name", loss));
                if (loss.equals("robust-dpo")) { // with 0 it is plain DPO
                    overrides.put("stages[1].loss.label_smoothing", "0.2");
                }
                report = pipelines.run(file, overrides);
            } finally {
                reg.unregister();
            }
            TrainingResult dpo = report.stages().get(1);
            assertEquals(loss, TrainingResult.Status.COMPLETED, dpo.status());
            List<Double> margins = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.EVALUATION
                    && "1:dpo".equals(e.stage())).map(e -> e.metrics().get("eval_rewards/margins"))
                    .collect(Collectors.toList());
            System.out.println("dpo, loss " + loss + ": held-out rewards/margins " + margins + "; exact match "
                    + dpo.metrics().get("eval_exact_match"));
            assertEquals(loss + ": " + margins, 2, margins.size());
            assertEquals("policy = reference before the first step", 0.0, margins.get(0), 1e-4);
            assertTrue(loss + ": the policy did not move toward the chosen answers: " + margins, margins.get(1) > 0);
            finalMargins.put(loss, margins.get(1));
            assertTrue(dpo.metrics().toString(), dpo.metrics().containsKey("eval_exact_match"));
            assertTrue(dpo.metrics().toString(), dpo.metrics().containsKey("eval_rewards/accuracies"));
            String messages = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.MESSAGE)
                    .map(TrainingEvent::message).collect(Collectors.joining("\n"));
            assertTrue(messages, messages.contains("dpo: loss " + loss + ", beta 0.5"));
            assertTrue(messages, messages.contains("computed in"));
            assertTrue(Files.isRegularFile(dpo.output().resolve("model.safetensors")));
        }
        // different losses trained different policies from the same start, data and seed
        assertEquals(finalMargins.toString(), losses.size(), new java.util.HashSet<>(finalMargins.values()).size());
    }
}
