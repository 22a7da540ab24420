package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.align4j.api.attention.AttentionKernel;
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
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/**
 * The attention kernels of the distribution, each chosen only by the pipeline file's {@code model:} keys: all three
 * register with what they support, a model with shared key/value heads, rotary or ALiBi positions and a window
 * trains with each, through the same services a user's run goes through, and a model that names none gets the
 * highest-ranked kernel ({@code mha-fast}), which its {@code config.json} records.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KernelChoiceIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("kernel-choice");
    }

    @Test
    public void bothKernelsRegisterWithWhatTheySupport() throws Exception {
        for (String name : List.of("mha", "mha-fast", "sliding-window")) {
            ServiceReference<AttentionKernel> ref = context.getServiceReferences(AttentionKernel.class,
                    "(align4j.name=" + name + ")").iterator().next();
            List<String> supports = Arrays.asList((String[]) ref.getProperty(AttentionKernel.SUPPORTS));
            assertTrue(name + ": " + supports, supports.containsAll(List.of("cache", "grouped", "window", "alibi")));
            if (!name.equals("mha")) { // mha-fast wins by default; sliding-window is named by the models it suits
                assertEquals(name.equals("mha-fast") ? 10 : 5, ref.getProperty(Constants.SERVICE_RANKING));
            }
        }
    }

    @Test
    public void aModelTrainsWithEachKernelAndEachPositionSchemeChosenByConfiguration() throws Exception {
        Path dir = Align4jOptions.scratch("kernel-choice-runs");
        String[][] runs = {
            {"mha", "rope", "1", "8"}, // multi-query, rotary, a window of 8
            {"mha-fast", "rope", "1", "8"},
            {"mha", "alibi", "2", "0"}, // ALiBi, no window
            {"mha-fast", "alibi", "1", "4"},
            {"sliding-window", "rope", "1", "3"},
            {"sliding-window", "alibi", "2", "6"},
        };
        for (String[] r : runs) {
            Path pipeline = Align4jOptions.tinyPipeline(dir.resolve(String.join("-", r)), r[0], 20);
            PipelineRunner.RunReport report = pipelines.run(pipeline, Map.of("model.positions", r[1],
                    "model.kv_heads", r[2], "model.window", r[3]));
            TrainingResult result = report.stages().get(0);
            assertEquals(Arrays.toString(r), TrainingResult.Status.COMPLETED, result.status());
            assertTrue(Arrays.toString(r) + ": " + result.metrics(),
                    Double.isFinite(result.metrics().get("eval_loss")));
            String config = Files.readString(dir.resolve(String.join("-", r)).resolve(
                    "run/stage-0-pretrain/model/config.json"));
            assertTrue(config, config.contains("\"attention\" : \"" + r[0] + "\"")
                    && config.contains("\"positions\" : \"" + r[1] + "\""));
            assertTrue(config, r[2].equals("2") ? !config.contains("kv_heads") : config.contains("\"kv_heads\" : 1"));
        }
    }

    @Test
    public void aModelThatNamesNoKernelTrainsWithTheHighestRankedOneAndRecordsIt() throws Exception {
        Path dir = Align4jOptions.scratch("kernel-choice-default");
        Path pipeline = Align4jOptions.tinyPipeline(dir, "mha", 5);
        Files.writeString(pipeline, Files.readString(pipeline).replace(", attention: mha", ""));
        assertTrue(!Files.readString(pipeline).contains("attention"));
        TrainingResult result = pipelines.run(pipeline, Map.of("model.window", "4")).stages().get(0);
        assertEquals(TrainingResult.Status.COMPLETED, result.status());
        String config = Files.readString(dir.resolve("run/stage-0-pretrain/model/config.json"));
        assertTrue(config, config.contains("\"attention\" : \"mha-fast\""));
    }
}
