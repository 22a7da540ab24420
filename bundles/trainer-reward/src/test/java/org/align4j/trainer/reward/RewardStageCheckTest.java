package org.align4j.trainer.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

/** The reward stage's own keys, read before anything runs: {@code likelihood} and {@code score}. */
class RewardStageCheckTest {

    private static Map<String, Object> stage(String key, Object value) {
        Map<String, Object> s = new HashMap<>(Map.of("trainer", "reward", "loss", "bradley-terry", "optimizer",
                Map.of("name", "adamw", "lr", 1e-3), "steps", 10, "batch", 4));
        if (key != null) {
            s.put(key, value);
        }
        return s;
    }

    private static RewardSettings read(Map<String, Object> stage) {
        Settings s = Settings.of("r.yaml", stage);
        new RewardStageCheck().validate(s);
        return new RewardSettings(s);
    }

    @Test
    void likelihoodIsFalseTrueSelfOrReference() {
        assertEquals(RewardSettings.Likelihood.NONE, read(stage(null, null)).likelihood);
        assertEquals(RewardSettings.Likelihood.NONE, read(stage("likelihood", false)).likelihood);
        assertEquals(RewardSettings.Likelihood.SELF, read(stage("likelihood", true)).likelihood);
        assertEquals(RewardSettings.Likelihood.SELF, read(stage("likelihood", "self")).likelihood);
        assertEquals(RewardSettings.Likelihood.REFERENCE, read(stage("likelihood", "reference")).likelihood);
        SettingsException e = assertThrows(SettingsException.class, () -> read(stage("likelihood", "frozen")));
        assertTrue(e.getMessage().contains("likelihood") && e.getMessage().contains("\"frozen\""), e.getMessage());
    }

    @Test
    void scoreIsLastTokenOrStepCredit() {
        assertEquals(false, read(stage(null, null)).stepCredit);
        assertEquals(false, read(stage("score", "last-token")).stepCredit);
        assertEquals(true, read(stage("score", "step-credit")).stepCredit);
        SettingsException e = assertThrows(SettingsException.class, () -> read(stage("score", "min")));
        assertTrue(e.getMessage().contains("score") && e.getMessage().contains("step-credit"), e.getMessage());
    }
}
