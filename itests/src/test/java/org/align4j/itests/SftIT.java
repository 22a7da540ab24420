package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.align4j.api.metrics.MetricNames;
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
 * Pre-training then supervised fine-tuning inside OSGi, in one pipeline: the SFT stage starts from the pre-trained
 * model ({@code init: stage-0}), trains on generated prompt-completion examples of the arithmetic task, and reports
 * the held-out loss and the held-out exact match judged by the task's verifier, before its first step and at the end.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SftIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Inject
    private org.apache.felix.service.command.CommandProcessor gogo;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("sft");
    }

    @Test
    public void sftStartsFromThePretrainedModelAndLowersTheHeldOutLoss() throws Exception {
        Path dir = Align4jOptions.scratch("sft-run");
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, String.join("\n",
                "run: { name: tiny-sft, workdir: '" + dir.resolve("run") + "', seed: 3 }",
                "model: { layers: 1, d_model: 64, heads: 2, context: 48 }",
                "data:",
                "  generate: { name: arithmetic, count: 3000, max_operand: 20 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5, clip_norm: 1.0 }",
                "    steps: 40",
                "    batch: 16",
                "  - trainer: sft",
                "    init: stage-0",
                "    data:",
                "      generate: { name: arithmetic, format: prompt-completion, count: 400, digits: 1, ops: '+' }",
                "      validation_fraction: 0.1",
                "    task: arithmetic",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 5, clip_norm: 1.0 }",
                "    steps: 60",
                "    batch: 16",
                "    log_every: 1",
                "    eval: { every: 30, at_start: true }",
                "    checkpoint: { every: 30, keep: 1 }",
                "    exact_match: { samples: 16, max_tokens: 24 }",
                "    sample: { count: 2 }",
                ""));
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add, null);
        PipelineRunner.RunReport report;
        try {
            report = pipelines.run(file, Map.of());
        } finally {
            reg.unregister();
        }
        assertEquals(2, report.stages().size());
        TrainingResult sft = report.stages().get(1);
        assertEquals(TrainingResult.Status.COMPLETED, sft.status());
        assertEquals(60, sft.step());

        String messages = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.MESSAGE)
                .map(TrainingEvent::message).collect(Collectors.joining("\n"));
        assertTrue(messages, messages.contains("policy: weights from " + dir.resolve("run/stage-0-pretrain/model")));
        assertTrue(messages, messages.contains("judged by the task's verifier"));

        List<TrainingEvent> evals = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.EVALUATION
                && "1:sft".equals(e.stage())).collect(Collectors.toList());
        assertEquals("evaluations at steps 0, 30 and 60: " + evals, 3, evals.size());
        assertEquals(0, evals.get(0).step());
        double before = evals.get(0).metrics().get(MetricNames.EVAL_LOSS);
        double after = evals.get(2).metrics().get(MetricNames.EVAL_LOSS);
        assertTrue("held-out loss did not go down: " + before + " -> " + after, after < before * 0.8);
        for (TrainingEvent e : evals) {
            double em = e.metrics().get("eval_exact_match");
            assertTrue("exact match " + em, em >= 0 && em <= 1);
            // each evaluation's answers, judged, are on disk: as many right ones as the metric says
            List<String> answers = Files.readAllLines(dir.resolve("run/stage-1-sft/exact-match/step-" + e.step()
                    + ".jsonl"));
            assertEquals(16, answers.size());
            long right = answers.stream().filter(l -> l.contains("\"right\":true")).count();
            assertEquals(answers.toString(), em, right / 16.0, 1e-9);
            assertTrue(answers.get(0), answers.get(0).startsWith("{\"prompt\":\"Q: ")
                    && answers.get(0).contains("\"answer\":") && answers.get(0).contains("\"all_steps_right\":"));
        }
        assertEquals(2, sft.samples().size());
        assertTrue(sft.samples().toString(), sft.samples().get(0).startsWith("Q: "));
        assertTrue(Files.isRegularFile(sft.output().resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("run/data/stage-1.jsonl")));

        // the fine-tuned model answers from the Gogo shell (greedy: what the evaluation generated)
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream print = new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8);
        try (org.apache.felix.service.command.CommandSession session = gogo.createSession(
                new java.io.ByteArrayInputStream(new byte[0]), print, print)) {
            session.put("folder", sft.output().toString());
            session.put("prompt", "Q: 3+4=?\n");
            String text = String.valueOf(session.execute("align4j:generate $folder $prompt --greedy --max-tokens 20"));
            assertTrue(text, text.startsWith("Q: 3+4=?\n"));
            assertTrue(text, text.length() > "Q: 3+4=?\n".length());
        }
    }
}
