package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

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
        Path jar = buildProbeBundle(dir.resolve("probe-attention.jar"));
        Bundle probe = context.installBundle(jar.toUri().toString());
        probe.start();

        // 1. selectable by name for the next run, no restart
        System.clearProperty(ProbeAttention.CALLS);
        PipelineRunner.RunReport first = pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("a"), ProbeAttention.NAME, 20),
                Map.of());
        assertEquals(TrainingResult.Status.COMPLETED, first.stages().get(0).status());
        assertTrue("the probe kernel was not used", Integer.getInteger(ProbeAttention.CALLS, 0) > 0);

        // 2. its bundle stops while a run that uses it is training
        Path second = Align4jOptions.tinyPipeline(dir.resolve("b"), ProbeAttention.NAME, 80);
        CountDownLatch training = new CountDownLatch(10);
        List<Long> steps = new CopyOnWriteArrayList<>();
        ServiceRegistration<TrainingListener> reg = context.registerService(TrainingListener.class, e -> {
            if (e.kind() == TrainingEvent.Kind.STEP) {
                steps.add(e.step());
                training.countDown();
            }
        }, null);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<PipelineRunner.RunReport> run = pool.submit(() -> pipelines.run(second, Map.of()));
            assertTrue("the run did not start training", training.await(120, TimeUnit.SECONDS));
            probe.stop();
            long stoppedAt = steps.get(steps.size() - 1);
            PipelineRunner.RunReport report = run.get(180, TimeUnit.SECONDS);
            TrainingResult result = report.stages().get(0);
            assertEquals(TrainingResult.Status.COMPLETED, result.status());
            assertEquals(80, result.step());
            assertTrue("no step after the kernel's bundle stopped at " + stoppedAt, steps.contains(80L));
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

    /** Packs {@link ProbeAttention} into a bundle of its own, as a third party's build would. */
    private static Path buildProbeBundle(Path jar) throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "com.example.probe.attention");
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Bundle-Activator", ProbeAttention.class.getName());
        a.putValue("Import-Package", "org.align4j.api.attention;version=\"[1.0,2)\",org.osgi.framework,"
                + "org.tensorflow,org.tensorflow.op,org.tensorflow.op.core,org.tensorflow.op.train,org.tensorflow.op.dtypes,"
                + "org.tensorflow.op.math,org.tensorflow.op.nn,org.tensorflow.op.linalg,"
                + "org.tensorflow.types,org.tensorflow.types.family,org.tensorflow.ndarray");
        Files.createDirectories(jar.getParent());
        String entry = ProbeAttention.class.getName().replace('.', '/') + ".class";
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m);
                InputStream in = ProbeAttention.class.getClassLoader().getResourceAsStream(entry)) {
            if (in == null) {
                throw new IOException("cannot read " + entry + " from the test's class loader");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            out.putNextEntry(new JarEntry(entry));
            out.write(bytes.toByteArray());
            out.closeEntry();
        }
        return jar;
    }
}
