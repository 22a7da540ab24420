package org.align4j.api.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;

class RunRequestTest {

    @Test
    void overridesSplitAtTheFirstEqualsAndBlankOnesAreIgnored() {
        RunRequest r = RunRequest.of(Path.of("p.yaml"), List.of("stages[0].steps=10", " run.workdir = a=b ", ""));
        assertEquals(Map.of("stages[0].steps", "10", "run.workdir", "a=b"), r.overrides());
        assertEquals(List.of("stages[0].steps", "run.workdir"), List.copyOf(r.overrides().keySet()));
        assertEquals("override: steps: expected key=value, e.g. stages[0].steps=10 or run.name=try2",
                assertThrows(SettingsException.class, () -> RunRequest.of(Path.of("p.yaml"), List.of("steps")))
                        .getMessage());
    }

    @Test
    void aConfinedRequestKeepsItsFileOverridesAndOrigin() {
        RunRequest r = RunRequest.of(Path.of("p.yaml"), Map.of("a", "1")).from("console").confinedTo(Path.of("/ws"));
        assertEquals(Path.of("/ws"), r.workspace().orElseThrow());
        assertEquals("console", r.origin());
        assertEquals(Map.of("a", "1"), r.overrides());
        assertTrue(RunRequest.of(Path.of("p.yaml"), Map.of()).workspace().isEmpty());
        assertEquals("api", RunRequest.of(Path.of("p.yaml"), Map.of()).origin());
    }
}
