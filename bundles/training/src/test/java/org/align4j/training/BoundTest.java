package org.align4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BoundTest {
    @Test
    void aBoundPluginIsReturnedAndAMissingOneNamedWithItsTrainerAndReference() {
        Object optimizer = new Object();
        assertSame(optimizer, Bound.require("sft", optimizer, "optimizer", "adamw"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Bound.require("sft", null, "optimizer", "adamw"));
        assertEquals("sft: no optimizer service named \"adamw\" is bound (its bundle stopped or is not installed);"
                + " run `align4j:plugins` to list them", e.getMessage());
    }
}
