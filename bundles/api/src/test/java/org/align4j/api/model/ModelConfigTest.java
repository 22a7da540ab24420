package org.align4j.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.align4j.api.model.ModelConfig.Positions;
import org.junit.jupiter.api.Test;

/** The model settings of step 6: shared key/value heads, rotary and ALiBi positions, windows. */
class ModelConfigTest {

    private static ModelConfig.Builder base() {
        return ModelConfig.builder().vocabSize(50).layers(2).dModel(48).heads(12);
    }

    /**
     * ALiBi's slopes as the paper lists them: 8 heads 1/2 .. 1/256; 4 heads 1/4 .. 1/256; a head count that is not a
     * power of two takes the largest power of two below it, then every other slope of twice as many heads.
     */
    @Test
    void alibiSlopesFollowThePaperForPowersOfTwoAndInterpolateOtherwise() {
        assertArrayEquals(new float[] {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f, 0.015625f, 0.0078125f, 0.00390625f},
                base().dModel(64).heads(8).build().alibiSlopes());
        assertArrayEquals(new float[] {0.25f, 0.0625f, 0.015625f, 0.00390625f},
                base().heads(4).build().alibiSlopes());
        // 6 heads: those of 4, then every other slope of 8 heads: 2^-1, 2^-3
        assertArrayEquals(new float[] {0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f},
                base().heads(6).build().alibiSlopes());
        // 12 heads: those of 8, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5 (every other of 16 heads)
        float[] twelve = base().heads(12).build().alibiSlopes();
        float[] want = {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f, 0.015625f, 0.0078125f, 0.00390625f,
            (float) Math.pow(2, -0.5), (float) Math.pow(2, -1.5), (float) Math.pow(2, -2.5), (float) Math.pow(2, -3.5)};
        assertArrayEquals(want, twelve, 1e-7f);
        assertArrayEquals(new float[] {(float) Math.pow(2, -8)}, base().dModel(8).heads(1).build().alibiSlopes());
    }

    @Test
    void keyValueHeadsDefaultToHeadsAndMustDivideThem() {
        assertEquals(12, base().build().kvHeads());
        assertEquals(3, base().kvHeads(3).build().kvHeads());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> base().kvHeads(5).build());
        assertTrue(e.getMessage().startsWith("model.kv_heads: must divide heads (12)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> base().kvHeads(24).build());
        // parameters: k and v of [48, 12] + [12] instead of [48, 48] + [48], in each of two layers
        assertEquals(base().build().parameterCount() - 2L * 2 * (48 * 36 + 36),
                base().kvHeads(3).build().parameterCount());
    }

    @Test
    void ropeNeedsAnEvenHeadSizeAndWindowsAreCounts() {
        assertEquals(Positions.ROPE, base().positions(Positions.ROPE).build().positions()); // head size 4
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> base().heads(16).positions(Positions.ROPE).build()); // head size 3
        assertTrue(e.getMessage().contains("the head size (d_model / heads = 3) must be even"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> base().window(-2).build());
        assertThrows(IllegalArgumentException.class, () -> base().positions(Positions.ROPE).ropeBase(1).build());
        ModelConfig c = base().positions(Positions.ROPE).ropeBase(500).window(8).build();
        assertEquals(c, c.toBuilder().build());
        assertTrue(c.toString().contains("positions=ROPE, rope_base=500.0, window=8"), c.toString());
        // rope and alibi have no position table
        assertEquals(base().positions(Positions.SINUSOIDAL).build().parameterCount(), c.parameterCount());
    }
}
