package org.align4j.api.task;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class TaskValuesTest {

    @Test
    void verdictsAreImmutable() {
        int[] labels = {0, 1, 2};
        Verdict v = new Verdict(true, labels, "1692", "1692", "");
        labels[0] = 2;
        assertArrayEquals(new int[] {0, 1, 2}, v.stepLabels());
        v.stepLabels()[1] = 2;
        assertArrayEquals(new int[] {0, 1, 2}, v.stepLabels());
        assertEquals(new Verdict(true, new int[] {0, 1, 2}, "1692", "1692", ""), v);
        assertNotEquals(new Verdict(true, new int[] {0, 1, 1}, "1692", "1692", ""), v);
        assertEquals("step labels are 0, 1 or 2 (StepLabel), got [0, 3]",
                assertThrows(IllegalArgumentException.class, () -> new Verdict(false, new int[] {0, 3}, "", "", ""))
                        .getMessage());
        assertThrows(NullPointerException.class, () -> new Verdict(false, new int[0], null, "", ""));
    }

    @Test
    void examplesKeepTheirStepsInTheCompletion() {
        List<String> steps = new ArrayList<>(List.of("1. 47*6=282", "2. 47*30=1410", "3. 282+1410=1692"));
        TaskExample e = new TaskExample("Q: 47*36=?\n", "1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692",
                "1692", steps);
        steps.clear();
        assertEquals(3, e.steps().size());
        assertThrows(UnsupportedOperationException.class, () -> e.steps().add("4. x"));
        assertThrows(IllegalArgumentException.class,
                () -> new TaskExample("Q: 1+1=?\n", "1. 1+1=2, write 2\nA: 2", "2", List.of("1. 1+1=3, write 3")));
        assertEquals("A: 2", new TaskExample("Q: 1+1=?\n", "A: 2", "2", List.of()).completion());
    }
}
