package org.align4j.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.reward.Scored;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Choosing and leasing on plain objects: versions, pinning, a swap at a call boundary, timeouts, NaN. */
class LeasingTest {
    private final FakeRegistry registry = new FakeRegistry();
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Leasing leasing = new Leasing(registry, executor, Duration.ofSeconds(5), 2, log::add);

    private static final List<PromptCompletion> BATCH = List.of(new PromptCompletion("p", "a"),
            new PromptCompletion("p", "bb"));

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    /** Scores every element with {@code value}. */
    static RewardModel constant(float value) {
        return batch -> {
            float[] s = new float[batch.size()];
            java.util.Arrays.fill(s, value);
            return RewardScores.of(s);
        };
    }

    @Test
    void versionsCompareDottedNumbersNumericallyOtherPartsAsText() {
        assertTrue(RewardModels.compareVersions("1.10", "1.9") > 0);
        assertTrue(RewardModels.compareVersions("2", "10") < 0);
        assertTrue(RewardModels.compareVersions("1.0.1", "1.0") > 0);
        assertEquals(0, RewardModels.compareVersions("1.02", "1.2"));
        assertTrue(RewardModels.compareVersions("2026-11-29.10", "2026-11-29.9") > 0);
        assertTrue(RewardModels.compareVersions("2026-11-30.1", "2026-11-29.9") > 0);
        assertTrue(RewardModels.compareVersions("1.0-beta", "1.0") < 0 == "0-beta".compareTo("0") < 0);
        assertTrue(RewardModels.compareVersions("", "0") < 0);
        assertEquals(0, RewardModels.compareVersions("", ""));
    }

    @Test
    void theNewestVersionWinsUnlessPinned() throws Exception {
        registry.register("rm", "1.9", "overall", constant(1));
        registry.register("rm", "1.10", "overall", constant(2));
        registry.register("rm", "1.2", "overall", 100, constant(3)); // ranking does not beat a newer version
        registry.register("other", "9", "overall", constant(9));
        Scored s = leasing.lease("rm", Optional.empty()).score(BATCH);
        assertArrayEquals(new float[] {2, 2}, s.scores().scores());
        assertEquals("1.10", s.model().version());
        assertEquals("org.test.rm", s.model().bundle());
        assertEquals(1, s.attempts());

        Scored pinned = leasing.lease("rm", Optional.of("1.9")).score(BATCH);
        assertArrayEquals(new float[] {1, 1}, pinned.scores().scores());
        assertEquals("1.9", pinned.model().version());
    }

    @Test
    void equalVersionsGoToTheHigherRankingThenTheOlderService() throws Exception {
        registry.register("rm", "1", "a", constant(1));
        registry.register("rm", "1", "a", constant(2));
        assertArrayEquals(new float[] {1, 1}, leasing.lease("rm", Optional.empty()).score(BATCH).scores().scores());
        registry.register("rm", "1", "a", 5, constant(3));
        assertArrayEquals(new float[] {3, 3}, leasing.lease("rm", Optional.empty()).score(BATCH).scores().scores());
    }

    @Test
    void noSuchNameListsTheRegisteredModels() {
        registry.register("helpful", "2", "helpfulness", constant(1));
        registry.register("arith", "1", "correctness", constant(1));
        RewardModelException e = assertThrows(RewardModelException.class,
                () -> leasing.lease("helpfull", Optional.empty()));
        assertEquals("no reward model named \"helpfull\" (registered: arith 1 [org.test.arith], helpful 2"
                + " [org.test.helpful]); install or configure it, or correct the name", e.getMessage());
        RewardModelException pinned = assertThrows(RewardModelException.class,
                () -> leasing.lease("helpful", Optional.of("3")));
        assertTrue(pinned.getMessage().startsWith("no reward model named \"helpful\" with version \"3\""),
                pinned.getMessage());
    }

    /**
     * A call in flight on v1 finishes on v1 while v1 is unregistered and v2 registered; the next call uses v2, and
     * v1 was ungot once for its one get.
     */
    @Test
    void aCallInFlightFinishesOnItsServiceAndTheNextCallSwaps() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FakeRegistry.Entry v1 = registry.register("rm", "1", "overall", batch -> {
            started.countDown();
            release.await();
            return RewardScores.of(new float[batch.size()]);
        });
        RewardModels.Lease lease = leasing.lease("rm", Optional.empty());
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            Future<Scored> inFlight = caller.submit(() -> lease.score(BATCH));
            assertTrue(started.await(5, TimeUnit.SECONDS));
            registry.unregister(v1);
            FakeRegistry.Entry v2 = registry.register("rm", "2", "overall", constant(7));
            assertEquals("2", lease.current().orElseThrow().version());
            release.countDown();
            Scored first = inFlight.get(5, TimeUnit.SECONDS);
            assertEquals("1", first.model().version());
            assertArrayEquals(new float[] {0, 0}, first.scores().scores());
            assertEquals(1, v1.gets.get());
            assertEquals(1, v1.ungets.get());

            Scored next = lease.score(BATCH);
            assertEquals("2", next.model().version());
            assertArrayEquals(new float[] {7, 7}, next.scores().scores());
            assertEquals(v2.gets.get(), v2.ungets.get());
            assertTrue(log.contains("reward model \"rm\": now rm 2 [org.test.rm] (was rm 1 [org.test.rm])"),
                    log.toString());
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    void aTimeoutIsRetriedThenReportedWithNameVersionAndBundle() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch never = new CountDownLatch(1);
        FakeRegistry.Entry slow = registry.register("slow", "3.1", "overall", batch -> {
            calls.incrementAndGet();
            never.await();
            return RewardScores.of(new float[batch.size()]);
        });
        RewardModels.Lease lease = leasing.lease("slow", Optional.empty(), Duration.ofMillis(100), 2);
        RewardModelException e = assertThrows(RewardModelException.class, () -> lease.score(BATCH));
        assertEquals(3, calls.get());
        assertTrue(e.getMessage().startsWith("reward model slow 3.1 [org.test.slow]: timed out after 0.1 s"
                + " (3 attempts; earlier: attempt 1: "), e.getMessage());
        assertEquals("3.1", e.model().orElseThrow().version());
        // the abandoned calls were interrupted and released their service
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (slow.ungets.get() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(3, slow.gets.get());
        assertEquals(3, slow.ungets.get());
    }

    @Test
    void aFailureIsRetriedAndTheRetrySucceeds() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        registry.register("flaky", "1", "overall", batch -> {
            if (calls.incrementAndGet() == 1) {
                throw new java.io.IOException("connection reset");
            }
            return RewardScores.of(new float[] {0.5f, 0.25f});
        });
        Scored s = leasing.lease("flaky", Optional.empty()).score(BATCH);
        assertEquals(2, s.attempts());
        assertArrayEquals(new float[] {0.5f, 0.25f}, s.scores().scores());
        assertTrue(log.get(0).startsWith("reward model flaky 1 [org.test.flaky]: threw java.io.IOException:"
                + " connection reset; retrying (attempt 2 of 3)"), log.toString());
    }

    @Test
    void nanAndInfinityAreFailuresNamingTheIndex() throws Exception {
        registry.register("nan", "1", "overall", batch -> RewardScores.of(0.5f, Float.NaN));
        RewardModelException e = assertThrows(RewardModelException.class,
                () -> leasing.lease("nan", Optional.empty(), Duration.ofSeconds(5), 0).score(BATCH));
        assertEquals("reward model nan 1 [org.test.nan]: returned NaN at index 1 (1 attempt)", e.getMessage());

        registry.register("inf", "1", "overall", batch -> RewardScores.withSteps(new float[] {1, 1},
                List.of(new float[] {1}, new float[] {0, Float.NEGATIVE_INFINITY})));
        RewardModelException s = assertThrows(RewardModelException.class,
                () -> leasing.lease("inf", Optional.empty(), Duration.ofSeconds(5), 1).score(BATCH));
        assertTrue(s.getMessage().startsWith("reward model inf 1 [org.test.inf]: returned a step score of -Infinity"
                + " at index 1, step 1 (2 attempts"), s.getMessage());

        registry.register("short", "1", "overall", batch -> RewardScores.of(1f));
        RewardModelException n = assertThrows(RewardModelException.class,
                () -> leasing.lease("short", Optional.empty(), Duration.ofSeconds(5), 0).score(BATCH));
        assertEquals("reward model short 1 [org.test.short]: returned 1 scores for a batch of 2 (1 attempt)",
                n.getMessage());
    }

    @Test
    void aTextModelRefusesTokensWithoutRetrying() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        registry.register("text", "1", "overall", new RewardModel() {
            @Override
            public RewardScores score(List<PromptCompletion> batch) {
                return RewardScores.of(new float[batch.size()]);
            }

            @Override
            public RewardScores scoreTokens(List<int[]> prompts, List<int[]> completions) throws Exception {
                calls.incrementAndGet();
                return RewardModel.super.scoreTokens(prompts, completions);
            }
        });
        RewardModelException e = assertThrows(RewardModelException.class, () -> leasing.lease("text",
                Optional.empty()).scoreTokens(List.of(new int[] {1}), List.of(new int[] {2})));
        assertEquals("reward model text 1 [org.test.text]: this reward model scores text", e.getMessage());
        assertEquals(1, calls.get());
    }

    @Test
    void modelsMatchAFilterSortedByNameNewestFirst() {
        registry.register("b", "1", "correctness", constant(1));
        registry.register("a", "1", "correctness", constant(1));
        registry.register("a", "2", "correctness", constant(1));
        registry.register("c", "1", "helpfulness", constant(1));
        List<String> found = new ArrayList<>();
        for (RewardModelInfo i : leasing.models("(align4j.aspect=correctness)")) {
            found.add(i.name() + " " + i.version());
        }
        assertEquals(List.of("a 2", "a 1", "b 1"), found);
        assertEquals(4, leasing.models(null).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> leasing.models("(oops"));
        assertTrue(e.getMessage().startsWith("reward-model filter \"(oops\": "), e.getMessage());
        assertFalse(leasing.models("(align4j.name=zzz)").iterator().hasNext());
    }

    @Test
    void durationsReadUnits() {
        assertEquals(Duration.ofSeconds(30), Durations.parse("30s", "t"));
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms", "t"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m", "t"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5", "t"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Durations.parse("soon", "org.align4j.reward.models: timeout"));
        assertEquals("org.align4j.reward.models: timeout: expected a positive duration like 30s, 500ms or 2m, got"
                + " \"soon\"", e.getMessage());
    }
}
