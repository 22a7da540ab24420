package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.align4j.api.attention.AttentionKernel;
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
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * A third party's attention-kernel bundle, built here as a real jar, installed into the running framework, selected
 * by the next run by name, and stopped in the middle of a run: the run goes on, because its graph is already built
 * (the trainer reads the kernel once, when it builds the graph).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ThirdPartyKernelIT {

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("third-party-kernel");
    }

    @Test
    public void aKernelInstalledAtRuntimeIsUsedAndItsBundleMayStopMidRun() throws Exception {
        Path dir = Align4jOptions.scratch("third-party-kernel-run");
        Path jar = ProbeBundles.build(dir.resolve("probe-attention.jar"), "com.example.probe.attention");
        Bundle probe = context.installBundle(jar.toUri().toString());
        probe.start();

        // 1. selectable by name for the next run, no restart
        System.clearProperty(ProbeAttention.CALLS);
        PipelineRunner.RunReport first = pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("a"), ProbeAttention.NAME, 20),
                Map.of());
        assertEquals(TrainingResult.Status.COMPLETED, first.stages().get(0).status());
        assertTrue("the probe kernel was not used", Integer.getInteger(ProbeAttention.CALLS, 0) > 0);

        // 1b. a model that asks it for a window, which it does not list in align4j.supports, is refused before
        // anything runs, naming the kernel and what is missing
        try {
            pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("w"), ProbeAttention.NAME, 5),
                    Map.of("model.window", "8"));
            fail("a model with a window ran on a kernel without windows");
        } catch (Exception e) {
            assertTrue(e.getMessage(), e.getMessage().contains("model.attention: kernel probe-mha")
                    && e.getMessage().contains("does not support window, which this model asks for (window: 8)"));
        }

        // 2. its bundle stops while a run that uses it is training
        Path second = Align4jOptions.tinyPipeline(dir.resolve("b"), ProbeAttention.NAME, 80);
        CountDownLatch atStep10 = new CountDownLatch(1);
        CountDownLatch bundleStopped = new CountDownLatch(1);
        List<Long> steps = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, e -> {
            if (e.kind() == TrainingEvent.Kind.STEP) {
                steps.add(e.step());
                if (e.step() == 10) {
                    // hold the training thread here until the kernel's bundle has stopped: mid-run for sure
                    atStep10.countDown();
                    try {
                        bundleStopped.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }, null);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<PipelineRunner.RunReport> run = pool.submit(() -> pipelines.run(second, Map.of()));
            assertTrue("the run did not reach step 10", atStep10.await(120, TimeUnit.SECONDS));
            probe.stop();
            assertEquals(Bundle.RESOLVED, probe.getState());
            assertEquals("the kernel's service is still registered", 0,
                    context.getServiceReferences(AttentionKernel.class, "(align4j.name=" + ProbeAttention.NAME + ")")
                            .size());
            bundleStopped.countDown();
            PipelineRunner.RunReport report = run.get(180, TimeUnit.SECONDS);
            TrainingResult result = report.stages().get(0);
            assertEquals(TrainingResult.Status.COMPLETED, result.status());
            assertEquals(80, result.step());
            assertTrue("no step after the kernel's bundle stopped at step 10: " + steps, steps.contains(80L));
            assertTrue(Double.isFinite(result.metrics().get("eval_loss")));
        } finally {
            reg.unregister();
            pool.shutdownNow();
        }

        // 3. with the bundle stopped, the name no longer resolves and the error lists what is registered
        try {
            pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("c"), ProbeAttention.NAME, 5), Map.of());
            fail("a run naming a stopped kernel started");
        } catch (Exception e) {
            assertTrue(e.getMessage(), e.getMessage().contains("probe-mha") && e.getMessage().contains("mha"));
        }
        probe.uninstall();
    }
}
