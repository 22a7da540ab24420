package org.align4j.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ensemble's combinations against hand computations; failing members dropped or failing the call. */
class EnsembleRewardTest {
    private final FakeRegistry registry = new FakeRegistry();
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Leasing leasing = new Leasing(registry, executor, Duration.ofSeconds(5), 0, log::add);
    private final RewardModels models = new RewardModels() {
        @Override
        public Lease lease(String name, Optional<String> version) throws RewardModelException {
            return leasing.lease(name, version);
        }

        @Override
        public Lease lease(String name, Optional<String> version, Duration timeout, int retries)
                throws RewardModelException {
            return leasing.lease(name, version, timeout, retries);
        }

        @Override
        public List<RewardModelInfo> models(String ldapFilter) {
            return leasing.models(ldapFilter);
        }
    };
    private static final List<PromptCompletion> BATCH = List.of(new PromptCompletion("p", "x"),
            new PromptCompletion("p", "y"));

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    static RewardModel fixed(float... scores) {
        return batch -> RewardScores.of(scores);
    }

    /** a: [1, 4], b: [3, 0], c (another aspect): [100, 100]; a's old version 1 scores [50, 50]. */
    private void members() {
        registry.register("a", "1", "correctness", fixed(50, 50));
        registry.register("a", "2", "correctness", fixed(1, 4));
        registry.register("b", "1", "correctness", fixed(3, 0));
        registry.register("c", "1", "helpfulness", fixed(100, 100));
    }

    private EnsembleReward ensemble(EnsembleReward.Combine combine, double k, Map<String, Double> weights,
            boolean drop) {
        return new EnsembleReward(models, "ens", "(align4j.aspect=correctness)", combine, k, weights, drop, log::add);
    }

    @Test
    void meanOfTheNewestMatchingMembers() throws Exception {
        members();
        RewardScores s = ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), false).score(BATCH);
        assertArrayEquals(new float[] {(1 + 3) / 2f, (4 + 0) / 2f}, s.scores());
        assertEquals(List.of("a", "b"), new ArrayList<>(s.members().keySet()));
        assertArrayEquals(new float[] {1, 4}, s.members().get("a"));
        assertArrayEquals(new float[] {3, 0}, s.members().get("b"));
        // weighted: a counts 3 times
        RewardScores w = ensemble(EnsembleReward.Combine.MEAN, 1, Map.of("a", 3.0), false).score(BATCH);
        assertArrayEquals(new float[] {(3 * 1 + 3) / 4f, (3 * 4 + 0) / 4f}, w.scores(), 1e-6f);
    }

    @Test
    void minIgnoresWeights() throws Exception {
        members();
        RewardScores s = ensemble(EnsembleReward.Combine.MIN, 1, Map.of("a", 5.0), false).score(BATCH);
        assertArrayEquals(new float[] {1, 0}, s.scores());
    }

    @Test
    void meanMinusKTimesThePopulationDeviation() throws Exception {
        members();
        // element 0: mean 2, deviations -1, +1: std 1; element 1: mean 2, deviations 2, -2: std 2
        RewardScores s = ensemble(EnsembleReward.Combine.MEAN_MINUS_STD, 0.5, Map.of(), false).score(BATCH);
        assertArrayEquals(new float[] {2 - 0.5f * 1, 2 - 0.5f * 2}, s.scores(), 1e-6f);
        // weights 3 (a) and 1 (b), element 0: mean 1.5, var (3 * 0.25 + 2.25) / 4 = 0.75
        RewardScores w = ensemble(EnsembleReward.Combine.MEAN_MINUS_STD, 2, Map.of("a", 3.0), false).score(BATCH);
        assertEquals(1.5 - 2 * Math.sqrt(0.75), w.scores()[0], 1e-6);
    }

    @Test
    void aFailingMemberIsDroppedOrFailsTheCall() throws Exception {
        members();
        registry.register("broken", "1", "correctness", batch -> {
            throw new IllegalStateException("weights missing");
        });
        RewardScores dropped = ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), true).score(BATCH);
        assertArrayEquals(new float[] {2, 2}, dropped.scores());
        assertEquals(List.of("a", "b"), new ArrayList<>(dropped.members().keySet()));
        assertTrue(log.get(0).startsWith("ensemble \"ens\": dropped member broken 1 [org.test.broken] for this"
                + " batch: reward model broken 1 [org.test.broken]: threw java.lang.IllegalStateException: weights"
                + " missing"), log.toString());

        RewardModelException e = assertThrows(RewardModelException.class,
                () -> ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), false).score(BATCH));
        assertTrue(e.getMessage().startsWith("ensemble \"ens\": member broken 1 [org.test.broken] failed: reward"
                + " model broken 1 [org.test.broken]: threw java.lang.IllegalStateException: weights missing"),
                e.getMessage());
    }

    @Test
    void noMembersOrAllFailedIsAnError() {
        registry.register("c", "1", "helpfulness", fixed(1, 1));
        RewardModelException none = assertThrows(RewardModelException.class,
                () -> ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), true).score(BATCH));
        assertEquals("ensemble \"ens\": no reward model matches members (align4j.aspect=correctness) (registered: c 1"
                + " [org.test.c])", none.getMessage());
        registry.register("x", "1", "correctness", fixed(Float.NaN, 1));
        RewardModelException all = assertThrows(RewardModelException.class,
                () -> ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), true).score(BATCH));
        assertEquals("ensemble \"ens\": every member failed: reward model x 1 [org.test.x]: returned NaN at index 0"
                + " (1 attempt)", all.getMessage());
    }

    @Test
    void theEnsembleIsNotItsOwnMember() throws Exception {
        members();
        EnsembleReward ens = ensemble(EnsembleReward.Combine.MEAN, 1, Map.of(), false);
        registry.register("ens", "1", "correctness", ens);
        assertArrayEquals(new float[] {2, 2}, ens.score(BATCH).scores());
    }

    @Test
    void weightsAndCombineAreRead() {
        assertEquals(Map.of("a", 2.0, "b", 0.5), EnsembleReward.weights(new String[] {"a=2, b = 0.5"}, "w"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EnsembleReward.weights(new String[] {"a:2"}, "org.align4j.reward.ensemble (e): weights"));
        assertEquals("org.align4j.reward.ensemble (e): weights: expected entries like helpful=2, got \"a:2\"",
                e.getMessage());
        assertEquals(EnsembleReward.Combine.MEAN_MINUS_STD, EnsembleReward.Combine.parse("Mean-Minus-Std", "c"));
        assertThrows(IllegalArgumentException.class, () -> EnsembleReward.Combine.parse("max", "c"));
        assertThrows(IllegalArgumentException.class, () -> ensemble(EnsembleReward.Combine.MEAN, 1,
                Map.of("a", -1.0), false));
    }
}
