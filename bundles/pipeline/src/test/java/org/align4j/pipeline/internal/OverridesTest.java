package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class OverridesTest {

    @Test
    void valuesAreTypedLikeYamlScalars() {
        assertEquals(Boolean.TRUE, Overrides.value("true"));
        assertEquals(Boolean.FALSE, Overrides.value("False"));
        assertEquals(10, Overrides.value("10"));
        assertEquals(-3, Overrides.value("-3"));
        assertEquals(5_000_000_000L, Overrides.value("5000000000"));
        assertEquals(3.0e-4, Overrides.value("3.0e-4"));
        assertEquals(1e-3, Overrides.value("1e-3"));
        assertEquals(0.5, Overrides.value(".5"));
        assertNull(Overrides.value("null"));
        assertEquals("adamw", Overrides.value("adamw"));
        assertEquals("10", Overrides.value("\"10\""));
        assertEquals("true", Overrides.value("'true'"));
        assertEquals("runs/${run.name}", Overrides.value("runs/${run.name}"));
        assertEquals("1.2.3", Overrides.value("1.2.3"));
    }

    @Test
    void applyReplacesCreatesAndAppends() {
        Map<String, Object> root = new LinkedHashMap<>();
        List<Object> stages = new ArrayList<>();
        Map<String, Object> s0 = new LinkedHashMap<>();
        s0.put("trainer", "pretrain");
        s0.put("steps", 2000);
        stages.add(s0);
        root.put("stages", stages);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("stages[0].steps", "10");
        o.put("stages[0].optimizer.lr", "1e-3");
        o.put("stages[1].trainer", "sft");
        o.put("data.generate.count", "5");
        Overrides.apply(root, o, "p.yaml");
        assertEquals(10, s0.get("steps"));
        assertEquals(Map.of("lr", 1e-3), s0.get("optimizer"));
        assertEquals(Map.of("trainer", "sft"), stages.get(1));
        assertEquals(Map.of("generate", Map.of("count", 5)), root.get("data"));

        // the dotted form of an index, as Gogo passes it (it reads stages[0] as a list)
        Overrides.apply(root, Map.of("stages.0.steps", "600", "stages.1.batch", "8"), "p.yaml");
        assertEquals(600, s0.get("steps"));
        assertEquals(8, ((Map<?, ?>) stages.get(1)).get("batch"));
        assertEquals("p.yaml: override stages.5.steps=1: stages has 2 entries, so [5] is out of range (use 0..1, or 2"
                + " to append one)", assertThrows(SettingsException.class, () -> Overrides.apply(root,
                        Map.of("stages.5.steps", "1"), "p.yaml")).getMessage());
        Overrides.apply(root, Map.of("data.7", "x"), "p.yaml"); // in a section, digits are a key like any other
        assertEquals("x", ((Map<?, ?>) root.get("data")).get("7"));
    }

    @Test
    void badPathsSayWhatIsWrong() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("run", new LinkedHashMap<>(Map.of("name", "x")));
        assertEquals("p.yaml: override a..b=1: empty key segment in \"a..b\"", assertThrows(SettingsException.class,
                () -> Overrides.apply(root, Map.of("a..b", "1"), "p.yaml")).getMessage());
        assertEquals("p.yaml: override run[0]=1: run is not a list, so [0] does not apply",
                assertThrows(SettingsException.class, () -> Overrides.apply(root, Map.of("run[0]", "1"), "p.yaml"))
                        .getMessage());
        assertEquals("p.yaml: override stages[0].steps=1: stages is not in the file, so it has no entry [0]",
                assertThrows(SettingsException.class,
                        () -> Overrides.apply(root, Map.of("stages[0].steps", "1"), "p.yaml")).getMessage());
        assertEquals("p.yaml: override x[a]=1: expected a list index like [0] in key \"x[a]\"",
                assertThrows(SettingsException.class, () -> Overrides.apply(root, Map.of("x[a]", "1"), "p.yaml"))
                        .getMessage());
    }
}
