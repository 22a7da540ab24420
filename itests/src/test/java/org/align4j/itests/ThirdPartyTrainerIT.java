package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import javax.inject.Inject;

import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.train.TrainingResult;
import org.align4j.itests.probe.judge.Judge;
import org.align4j.itests.probe.judge.Judges;
import org.align4j.itests.probe.trainer.JudgedTrainer;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * A third party's trainer whose component declares a reference of a kind the pipeline has never heard of (a
 * {@code judge}, from a contract in another third-party bundle) is wired by configuration alone: the stage names the
 * judge with the reference's name as the key, and the pipeline bundle, unchanged, writes the target filter.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ThirdPartyTrainerIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("third-party-trainer");
    }

    @Test
    public void aTrainerWithAReferenceKindOfItsOwnIsWiredByTheStage() throws Exception {
        Path dir = Align4jOptions.scratch("third-party-trainer-run");
        String judgePackage = Judge.class.getPackageName();
        Path judges = ProbeBundles.write(dir.resolve("judges.jar"), ProbeBundles.manifest(
                "Bundle-SymbolicName", "com.example.judges", "Bundle-Version", "1.0.0",
                "Bundle-Activator", Judges.class.getName(),
                "Export-Package", judgePackage + ";version=\"1.0.0\"",
                "Import-Package", "org.osgi.framework"),
                Map.of(ProbeBundles.entry(Judge.class), ProbeBundles.classBytes(Judge.class),
                        ProbeBundles.entry(Judges.class), ProbeBundles.classBytes(Judges.class)));
        String descriptor = String.join("\n",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.4.0\" name=\"com.example.judged\"",
                "    configuration-policy=\"require\" configuration-pid=\"com.example.judged\">",
                "  <property name=\"align4j.name\" value=\"judged\"/>",
                "  <service><provide interface=\"org.align4j.api.train.Trainer\"/></service>",
                "  <reference name=\"judge\" interface=\"" + Judge.class.getName() + "\" cardinality=\"1..1\"",
                "      policy=\"dynamic\" field=\"judge\" field-option=\"replace\"/>",
                "  <implementation class=\"" + JudgedTrainer.class.getName() + "\"/>",
                "</scr:component>", "");
        Path trainer = ProbeBundles.write(dir.resolve("judged-trainer.jar"), ProbeBundles.manifest(
                "Bundle-SymbolicName", "com.example.judged", "Bundle-Version", "1.0.0",
                "Service-Component", "OSGI-INF/judged.xml",
                // the judge contract from the judges bundle, not from a copy elsewhere
                "Import-Package", "org.align4j.api.train,org.align4j.api.pipeline,"
                        + judgePackage + ";bundle-symbolic-name=com.example.judges"),
                Map.of(ProbeBundles.entry(JudgedTrainer.class), ProbeBundles.classBytes(JudgedTrainer.class),
                        "OSGI-INF/judged.xml", descriptor.getBytes(StandardCharsets.UTF_8)));
        Bundle judgesBundle = context.installBundle(judges.toUri().toString());
        Bundle trainerBundle = context.installBundle(trainer.toUri().toString());
        judgesBundle.start();
        trainerBundle.start();
        try {
            Path run = Align4jOptions.tinyPipeline(dir.resolve("a"), "mha", 1);
            Map<String, String> stage = Map.of("stages[0].trainer", "judged", "stages[0].judge", "lenient",
                    "stages[0].text", "this run");
            PipelineRunner.RunReport report = pipelines.run(run, stage);
            TrainingResult result = report.stages().get(0);
            assertEquals(TrainingResult.Status.COMPLETED, result.status());
            assertEquals("the stage's judge was not the one bound", "lenient judge on this run",
                    result.samples().get(0));

            // the same trainer, the other judge: configuration alone decides
            report = pipelines.run(run, Map.of("stages[0].trainer", "judged", "stages[0].judge", "strict",
                    "stages[0].text", "that run"));
            assertEquals("strict judge on that run", report.stages().get(0).samples().get(0));

            // a mandatory reference of a named kind must be named, and the error lists what there is
            try {
                pipelines.run(run, Map.of("stages[0].trainer", "judged"));
                fail("a stage without its judge ran");
            } catch (Exception e) {
                assertTrue(e.getMessage(), e.getMessage().contains("stages[0].judge: missing (required)")
                        && e.getMessage().contains("lenient") && e.getMessage().contains("strict"));
            }
        } finally {
            trainerBundle.uninstall();
            judgesBundle.uninstall();
        }
        Files.deleteIfExists(judges);
    }
}
