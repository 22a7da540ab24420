package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.inject.Inject;

import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.Scored;
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
 * Reward models as services that come and go while they are used: a trained model packaged with
 * {@code align4j package-reward} and dropped into the FileInstall folder becomes a reward model other code selects by
 * name; during a scoring loop, dropping version 2 in and taking version 1 out switches between batches, never inside
 * one, with no batch lost; a reward model that throws is reported by name, version and bundle.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RewardSwapIT {
    private static final String TEST = "reward-swap";

    @Inject
    private BundleContext context;

    @Inject
    private PipelineRunner pipelines;

    @Inject
    private RewardModels rewards;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config(TEST);
    }

    @Test
    public void aPackagedRewardModelIsSwappedAtABatchBoundary() throws Exception {
        Path dir = Align4jOptions.scratch("reward-swap-run");
        Path deploy = java.nio.file.Paths.get(context.getProperty("felix.fileinstall.dir"));
        Path model = pipelines.run(Align4jOptions.tinyPipeline(dir.resolve("a"), "mha", 5), Map.of()).stages().get(0)
                .output();
        for (String version : List.of("1", "2")) {
            DistributionRuns.Ended packaged = DistributionRuns.command(dir, "package-" + version, 120,
                    "package-reward", model.toString(), "--name", "judge", "--version", version, "--aspect",
                    "correctness", "--out", dir.resolve("judge-" + version + ".jar").toString());
            assertEquals(packaged.out() + packaged.err(), 0, packaged.exit());
        }

        Files.copy(dir.resolve("judge-1.jar"), deploy.resolve("judge-1.jar"));
        awaitVersions("1");
        RewardModels.Lease lease = rewards.lease("judge", Optional.empty());
        List<PromptCompletion> batch = List.of(new PromptCompletion("Q: 3+4=?\n", "A: 7"),
                new PromptCompletion("Q: 3+4=?\n", "A: 8"), new PromptCompletion("1+", "1=2"),
                new PromptCompletion("", "no idea"));
        Scored first = lease.score(batch);
        assertEquals("1", first.model().version());
        assertEquals(4, first.scores().size());

        List<String> versions = new CopyOnWriteArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean go = new AtomicBoolean(true);
        Thread loop = new Thread(() -> {
            while (go.get()) {
                try {
                    Scored s = lease.score(batch);
                    if (s.scores().size() != batch.size()) {
                        failures.add(new AssertionError("a batch came back with " + s.scores().size() + " scores"));
                    }
                    versions.add(s.model().version());
                } catch (Exception e) {
                    failures.add(e);
                }
            }
        }, "scoring-loop");
        loop.start();
        try {
            Files.copy(dir.resolve("judge-2.jar"), deploy.resolve("judge-2.jar"));
            await(() -> versions.contains("2"), "the scoring loop never used version 2: " + versions);
            Files.delete(deploy.resolve("judge-1.jar"));
            awaitVersions("2");
            int seen = versions.size();
            await(() -> versions.size() > seen + 3, "the loop stopped scoring after version 1 left");
        } finally {
            go.set(false);
            loop.join(60_000);
        }
        assertTrue("batches failed: " + failures, failures.isEmpty());
        int firstTwo = versions.indexOf("2");
        assertTrue(versions.toString(), versions.get(0).equals("1") && firstTwo > 0);
        for (int i = 0; i < versions.size(); i++) {
            assertEquals("batch " + i + " of " + versions, i < firstTwo ? "1" : "2", versions.get(i));
        }
        Files.delete(deploy.resolve("judge-2.jar"));
        awaitVersions();
    }

    @Test
    public void aRewardModelThatThrowsIsReportedByNameAndVersion() throws Exception {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RewardModel.NAME, "broken");
        props.put(RewardModel.VERSION, "0.3");
        ServiceRegistration<RewardModel> reg = context.registerService(RewardModel.class, b -> {
            throw new IllegalStateException("the scoring server answered 503");
        }, props);
        try {
            rewards.lease("broken", Optional.empty()).score(List.of(new PromptCompletion("a", "b")));
            fail("a throwing reward model scored");
        } catch (RewardModelException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("broken 0.3"));
            assertTrue(e.getMessage(), e.getMessage().contains("503"));
        } finally {
            reg.unregister();
        }
    }

    /** Waits until the reward models named judge are exactly these versions. */
    private void awaitVersions(String... expected) throws Exception {
        await(() -> {
            List<String> now = new ArrayList<>();
            rewards.models("(" + RewardModel.NAME + "=judge)").forEach(m -> now.add(m.version()));
            now.sort(null);
            return now.equals(List.of(expected));
        }, "the judge reward models did not become " + List.of(expected) + ": "
                + rewards.models("(" + RewardModel.NAME + "=judge)"));
    }

    private static void await(java.util.function.BooleanSupplier condition, String message) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(message);
            }
            Thread.sleep(100);
        }
    }
}
