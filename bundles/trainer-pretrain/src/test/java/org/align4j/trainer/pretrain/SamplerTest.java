package org.align4j.trainer.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void greedyTakesTheLargestLogit() {
        assertEquals(2, Sampler.argmax(new float[] {0.1f, -3f, 4f, 3.9f}));
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3)}; // softmax = {0.25, 0.75}
        SplittableRandom r = new SplittableRandom(1);
        int n = 40_000;
        int ones = 0;
        for (int i = 0; i < n; i++) {
            ones += Sampler.draw(logits, 1.0, r);
        }
        double share = ones / (double) n;
        assertTrue(Math.abs(share - 0.75) < 0.01, "share of token 1: " + share);
        // a low temperature sharpens: at T = 0.5 the odds 3:1 become 9:1
        int sharp = 0;
        for (int i = 0; i < n; i++) {
            sharp += Sampler.draw(logits, 0.5, r);
        }
        assertTrue(Math.abs(sharp / (double) n - 0.9) < 0.01, "share at T=0.5: " + sharp / (double) n);
    }
}
