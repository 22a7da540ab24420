package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

/** A tiny model pre-trained inside OSGi through the pipeline and the plugin services. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PretrainIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("pretrain");
    }

    @Test
    public void validationLossGoesDownAndFilesAreWritten() throws Exception {
        Path dir = Align4jOptions.scratch("pretrain-run");
        Path file = Align4jOptions.tinyPipeline(dir, "mha", 120);
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add, null);
        PipelineRunner.RunReport report;
        try {
            report = pipelines.run(file, Map.of());
        } finally {
            reg.unregister();
        }
        assertEquals(1, report.stages().size());
        TrainingResult result = report.stages().get(0);
        assertEquals(TrainingResult.Status.COMPLETED, result.status());
        assertEquals(120, result.step());

        List<Double> evalLosses = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.EVALUATION)
                .map(e -> e.metrics().get(MetricNames.EVAL_LOSS)).collect(Collectors.toList());
        assertTrue("evaluations: " + evalLosses, evalLosses.size() >= 3);
        double first = evalLosses.get(0);
        double last = evalLosses.get(evalLosses.size() - 1);
        List<Double> stepLosses = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.STEP)
                .map(e -> e.metrics().get(MetricNames.LOSS)).collect(Collectors.toList());
        assertEquals(120, stepLosses.size());
        assertTrue("validation loss did not go down: " + evalLosses, last < first);
        assertTrue("final validation loss " + last + " not below the first step's training loss " + stepLosses.get(0),
                last < stepLosses.get(0) * 0.8);
        double ppl = result.metrics().get(MetricNames.EVAL_PERPLEXITY);
        double unigram = result.metrics().get(MetricNames.EVAL_UNIGRAM_PERPLEXITY);
        assertTrue("perplexity " + ppl + " not below the unigram baseline " + unigram, ppl < unigram);
        assertEquals(2, result.samples().size());

        Path stage = result.output().getParent();
        assertTrue(Files.isRegularFile(result.output().resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(result.output().resolve("config.json")));
        assertTrue(Files.isRegularFile(result.output().resolve("tokenizer.json")));
        List<String> checkpoints = new ArrayList<>();
        try (var s = Files.list(stage)) {
            s.filter(p -> p.getFileName().toString().startsWith("checkpoint-"))
                    .forEach(p -> checkpoints.add(p.getFileName().toString()));
        }
        assertTrue("checkpoints kept: " + checkpoints, checkpoints.size() == 2 && checkpoints.contains("checkpoint-120"));
        Path metrics = report.workDir().resolve("metrics.jsonl");
        assertTrue("no metrics log at " + metrics, Files.isRegularFile(metrics));
        assertTrue(Files.readAllLines(metrics).size() >= 120);
    }

    @Test
    public void aUsersJsonlCorpusWithMalformedLinesFailsAtTheLineOrIsSkippedAndCounted() throws Exception {
        Path dir = Align4jOptions.scratch("pretrain-user-data");
        Path corpus = dir.resolve("corpus.jsonl");
        List<String> lines = new ArrayList<>();
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 1500; i++) {
            int a = r.nextInt(20);
            int b = r.nextInt(20);
            lines.add("{\"text\": \"" + a + "+" + b + "=" + (a + b) + "\"}");
        }
        lines.set(2, "{\"text\": \"1+1=2\""); // line 3: the object is not closed
        lines.set(9, "{\"txt\": \"1+2=3\"}"); // line 10: no "text" field
        Files.write(corpus, lines);
        String yaml = String.join("\n",
                "run: { name: user-data, workdir: '" + dir.resolve("run") + "', seed: 1 }",
                "model: { layers: 1, d_model: 32, heads: 2, context: 16 }",
                "data: { train: '" + corpus + "', validation_fraction: 0.1, tokenizer: { type: bpe, vocab: 280 } }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adam, lr: 3.0e-3 }",
                "    steps: 5",
                "    batch: 4",
                "");
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, yaml);

        try {
            pipelines.run(file, Map.of());
            org.junit.Assert.fail("a malformed line was accepted");
        } catch (Exception e) {
            assertTrue(e.getMessage(), e.getMessage().contains(corpus + ":3:"));
        }

        PipelineRunner.RunReport report = pipelines.run(file, Map.of("data.skip_malformed", "true"));
        assertEquals(TrainingResult.Status.COMPLETED, report.stages().get(0).status());
        assertEquals(Long.valueOf(2), report.counters().get("skipped_lines"));
        assertEquals(Long.valueOf(1498), report.counters().get("documents"));
    }

    @Test
    public void aBadStageSettingFailsBeforeAnyDataIsWrittenOrATokenizerTrained() throws Exception {
        Path dir = Align4jOptions.scratch("pretrain-bad-stage");
        Path file = Align4jOptions.tinyPipeline(dir, "mha", 10);
        for (Map.Entry<String, String> bad : Map.of("stages[0].batch", "0", "stages[0].steps", "many").entrySet()) {
            try {
                pipelines.run(file, Map.of(bad.getKey(), bad.getValue()));
                org.junit.Assert.fail(bad + " was accepted");
            } catch (Exception e) {
                assertTrue(e.getMessage(), e.getMessage().contains(bad.getKey() + ": expected a"));
                assertTrue(e.getMessage(), !e.getMessage().contains("Exception"));
            }
            assertTrue("data was generated before the stage was checked",
                    !Files.exists(dir.resolve("run/data/corpus.jsonl")));
            assertTrue("a tokenizer was trained before the stage was checked",
                    !Files.exists(dir.resolve("run/tokenizer.json")));
        }
    }

    @Test
    public void aTokenizerFileWithAByteOrderMarkIsReadWithAWarning() throws Exception {
        Path dir = Align4jOptions.scratch("pretrain-bom");
        Path file = Align4jOptions.tinyPipeline(dir, "mha", 3);
        pipelines.run(file, Map.of()); // trains and saves the tokenizer
        Path tokenizer = dir.resolve("run/tokenizer.json");
        byte[] json = Files.readAllBytes(tokenizer);
        byte[] withBom = new byte[json.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(json, 0, withBom, 3, json.length);
        Files.write(tokenizer, withBom);
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, events::add, null);
        try {
            pipelines.run(file, Map.of("stages[0].steps", "4"));
        } finally {
            reg.unregister();
        }
        String messages = events.stream().filter(e -> e.kind() == TrainingEvent.Kind.MESSAGE)
                .map(TrainingEvent::message).collect(Collectors.joining("\n"));
        assertTrue(messages, messages.contains("warning: " + tokenizer + ": starts with a UTF-8 byte order mark"));
        assertTrue(messages, messages.contains("tokenizer: reusing " + tokenizer));
    }
}
