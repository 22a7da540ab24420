package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.inject.Inject;

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
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The metrics sinks of the distribution in a real framework: a run leaves TensorBoard event files (on by default), one
 * folder per stage, holding its step metrics; metrics.csv appears once ConfigAdmin turns the CSV sink on. (The event
 * files' framing and protocol buffers are read back field by field in the metrics bundle's own tests.)
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MetricsSinksIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Inject
    private ConfigurationAdmin configs;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("metrics-sinks");
    }

    @Test
    public void aRunWritesTensorBoardEventsAndCsvWhenItIsOn() throws Exception {
        org.osgi.service.cm.Configuration csv = configs.getConfiguration("org.align4j.metrics.csv", "?");
        Hashtable<String, Object> on = new Hashtable<>();
        on.put("enabled", true);
        csv.update(on);
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline && !csvListenerIsOn()) {
            Thread.sleep(50);
        }

        Path dir = Align4jOptions.scratch("metrics-sinks");
        Path pipeline = Align4jOptions.tinyPipeline(dir, "mha", 6);
        TrainingResult result = pipelines.run(pipeline, Map.of()).stages().get(0);
        assertEquals(TrainingResult.Status.COMPLETED, result.status());

        Path events = dir.resolve("run/tensorboard/stage-0-pretrain");
        List<Path> files;
        try (Stream<Path> s = Files.list(events)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).toList();
        }
        assertEquals(files.toString(), 1, files.size());
        byte[] bytes = Files.readAllBytes(files.get(0));
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        assertTrue("the file version record", text.contains("brain.Event:2"));
        assertTrue("the loss of each step", text.contains("loss") && text.contains("learning_rate"));
        assertTrue("an evaluation at the end", text.contains("eval_loss"));

        List<String> rows = Files.readAllLines(dir.resolve("run/metrics.csv"));
        assertEquals("time,run,stage,kind,step,metric,value", rows.get(0));
        long losses = rows.stream().filter(r -> r.contains(",tiny,0:pretrain,STEP,") && r.contains(",loss,")).count();
        assertEquals(rows.toString(), 6, losses);
    }

    /** The CSV sink has its configuration (the component was re-activated with enabled=true). */
    private boolean csvListenerIsOn() throws Exception {
        for (var ref : context.getServiceReferences(TrainingListener.class, "(component.name=*CsvMetricsLog)")) {
            if (Boolean.TRUE.equals(ref.getProperty("enabled"))) {
                return true;
            }
        }
        return false;
    }
}
