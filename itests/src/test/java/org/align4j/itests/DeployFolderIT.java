package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
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
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * A plugin jar dropped into the folder Felix FileInstall watches (the distribution's {@code deploy/}) is installed and
 * started, its service is usable by the next run, and deleting the jar uninstalls it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DeployFolderIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("deploy-folder");
    }

    @Test
    public void aJarDroppedIntoDeployIsInstalledStartedAndUsable() throws Exception {
        Path deploy = Paths.get(context.getProperty("felix.fileinstall.dir"));
        Path dir = Align4jOptions.scratch("deploy-folder-run");
        Path built = ProbeBundles.build(dir.resolve("probe.jar"), "com.example.probe.deployed");
        Path dropped = deploy.resolve("probe.jar");
        Files.move(built, dropped, StandardCopyOption.ATOMIC_MOVE); // whole, as a user's cp into deploy/ should be

        ServiceTracker<AttentionKernel, AttentionKernel> kernels = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + AttentionKernel.class.getName() + ")(align4j.name="
                        + ProbeAttention.NAME + "))"),
                null);
        kernels.open();
        try {
            assertNotNull("FileInstall did not start the dropped bundle within 30 s", kernels.waitForService(30_000));
            ServiceReference<AttentionKernel> ref = kernels.getServiceReference();
            assertEquals("com.example.probe.deployed", ref.getBundle().getSymbolicName());
            // The probe's activator registers the kernel inside start(), so the service is visible while the bundle
            // is still STARTING; ACTIVE follows when start() returns.
            Bundle probe = ref.getBundle();
            long activeBy = System.currentTimeMillis() + 10_000;
            while (probe.getState() == Bundle.STARTING && System.currentTimeMillis() < activeBy) {
                Thread.sleep(20);
            }
            assertEquals(Bundle.ACTIVE, probe.getState());

            PipelineRunner.RunReport report = pipelines.run(
                    Align4jOptions.tinyPipeline(dir.resolve("run"), ProbeAttention.NAME, 10), Map.of());
            assertEquals(TrainingResult.Status.COMPLETED, report.stages().get(0).status());

            Files.delete(dropped);
            long deadline = System.currentTimeMillis() + 30_000;
            while (kernels.getService() != null && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertTrue("deleting the jar did not remove its service", kernels.getService() == null);
        } finally {
            kernels.close();
        }
    }
}
