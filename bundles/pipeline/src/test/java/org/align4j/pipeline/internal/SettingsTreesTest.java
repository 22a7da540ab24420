package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class SettingsTreesTest {

    @Test
    void settingsAtAPathNameThatPathInTheirErrors() {
        Settings s = SettingsTrees.at("p.yaml", "stages[2].optimizer", Map.of("lr", "fast"));
        assertEquals("stages[2].optimizer", s.path());
        assertEquals("p.yaml", s.source());
        assertEquals("p.yaml: stages[2].optimizer.lr: expected a number, got \"fast\"",
                assertThrows(SettingsException.class, () -> s.getDouble("lr")).getMessage());
        assertEquals("data.generate", SettingsTrees.at("p.yaml", "data.generate", Map.of()).path());
        assertEquals("", SettingsTrees.at("p.yaml", "", Map.of("a", 1)).path());
    }

    @Test
    void withoutKeepsThePath() {
        Settings g = SettingsTrees.at("p.yaml", "data.generate", Map.of("name", "arithmetic", "count", 3));
        Settings w = SettingsTrees.without(g, "name");
        assertEquals(Map.of("count", 3), w.asMap());
        assertEquals("data.generate", w.path());
    }

    @Test
    void flattenWritesEveryLeafAsAString() {
        Map<String, Object> stage = new LinkedHashMap<>();
        stage.put("trainer", "pretrain");
        stage.put("optimizer", Map.of("lr", 3.0e-4));
        stage.put("tags", List.of("a", Map.of("k", 2)));
        stage.put("none", null);
        Map<String, String> flat = SettingsTrees.flatten("stage", stage);
        Map<String, String> want = new LinkedHashMap<>();
        want.put("stage.trainer", "pretrain");
        want.put("stage.optimizer.lr", "3.0E-4");
        want.put("stage.tags[0]", "a");
        want.put("stage.tags[1].k", "2");
        assertEquals(want, flat);
    }

    @Test
    void checkKnownSuggestsTheClosestKey() {
        Settings s = Settings.of("p.yaml", Map.of("modle", Map.of()));
        assertEquals("p.yaml: modle: unknown setting (did you mean \"model\"?); accepted here: run, model, data,"
                + " stages", assertThrows(SettingsException.class,
                        () -> SettingsTrees.checkKnown(s, "run", "model", "data", "stages")).getMessage());
        Settings far = Settings.of("p.yaml", Map.of("zzz", 1));
        assertEquals("p.yaml: zzz: unknown setting; accepted here: run, model",
                assertThrows(SettingsException.class, () -> SettingsTrees.checkKnown(far, "run", "model"))
                        .getMessage());
    }

    @Test
    void closestOnlySuggestsLikelyTypos() {
        assertEquals("stages", Texts.closest("stagse", List.of("run", "stages")));
        assertEquals("validation_fraction", Texts.closest("validation_fractoin", List.of("validation_fraction",
                "field")));
        assertNull(Texts.closest("optimiser_settings", List.of("run", "model")));
    }

    @Test
    void numbersDurationsAndRatesReadWell() {
        assertEquals("4m12s", Texts.duration(252_000));
        assertEquals("1h02m", Texts.duration(3_720_000));
        assertEquals("9s", Texts.duration(9_400));
        assertEquals("--", Texts.duration(-1));
        assertEquals("2.3457", Texts.number(2.34567));
        assertEquals("3.000e-04", Texts.number(3e-4));
        assertEquals("20000", Texts.number(20000.0));
        assertEquals("NaN", Texts.number(Double.NaN));
        assertEquals("950", Texts.rate(950.2));
        assertEquals("12.3k", Texts.rate(12_345));
        assertEquals("4.57M", Texts.rate(4_567_000));
        assertEquals("(align4j.name=a\\*b\\(c\\))", Texts.nameFilter("a*b(c)"));
        assertEquals("an Optimizer", Texts.a("Optimizer"));
        assertEquals("a LanguageModelLoss", Texts.a("LanguageModelLoss"));
    }
}
