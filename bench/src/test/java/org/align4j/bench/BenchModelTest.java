package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.align4j.api.model.ModelConfig;
import org.junit.jupiter.api.Test;

class BenchModelTest {

    @Test
    void parameterCountOfTheBenchmarkModelByHand() {
        // d = 256, ffn = 1024, V = 512, T = 128, 4 layers, LayerNorm (gain + bias), tied embeddings, learned positions
        long attention = 4L * 256 * 256 + 4 * 256; // q, k, v, o with biases = 263,168
        long mlp = 256L * 1024 + 1024 + 1024L * 256 + 256; // 525,568
        long norms = 2 * (2 * 256); // 1,024
        long block = attention + mlp + norms; // 789,760
        long expected = 512L * 256 + 4 * block + 2 * 256 + 128L * 256; // 3,323,392
        assertEquals(3_323_392L, expected);
        assertEquals(expected, BenchModel.config().parameterCount());
    }

    @Test
    void flopsPerStepOfTheBenchmarkModelByHand() {
        // tokens = 16 * 128 = 2,048
        // 6 * 3,323,392 * 2,048 = 40,837,840,896; 12 * 4 * 128 * 256 * 2,048 = 3,221,225,472
        assertEquals(2_048L, BenchModel.tokensPerStep(BenchModel.config(), BenchModel.BATCH));
        assertEquals(44_059_066_368L, BenchModel.flopsPerStep(BenchModel.config(), BenchModel.BATCH));
    }

    @Test
    void theLargeSizeByHand() {
        // d = 512, ffn = 2048, V = 512, T = 256, 6 layers, 8 heads, batch 8
        long attention = 4L * 512 * 512 + 4 * 512; // 1,050,624
        long mlp = 512L * 2048 + 2048 + 2048L * 512 + 512; // 2,099,712
        long block = attention + mlp + 2 * (2 * 512); // 3,152,384
        long expected = 512L * 512 + 6 * block + 2 * 512 + 256L * 512; // 19,308,544
        assertEquals(19_308_544L, expected);
        ModelConfig large = BenchModel.config(BenchModel.Size.LARGE);
        assertEquals(expected, large.parameterCount());
        assertEquals(8, large.heads());
        assertEquals(8, BenchModel.Size.LARGE.batch());
        // 6 * 19,308,544 * 2,048 = 237,263,388,672; 12 * 6 * 256 * 512 * 2,048 = 19,327,352,832
        assertEquals(2_048L, BenchModel.tokensPerStep(large, 8));
        assertEquals(256_590_741_504L, BenchModel.flopsPerStep(large, 8));
        assertEquals(BenchModel.Size.LARGE, BenchModel.Size.of("large"));
        assertEquals(BenchModel.Size.SMALL, BenchModel.Size.of("small"));
    }

    @Test
    void flopsFormulaOnSmallNumbers() {
        // 6 * 1000 * 10 + 12 * 2 * 8 * 4 * 10 = 60,000 + 7,680
        assertEquals(67_680L, BenchModel.flopsPerStep(1000, 2, 8, 4, 10));
        ModelConfig tiny = ModelConfig.builder().vocabSize(10).layers(1).dModel(4).heads(2).context(3).build();
        // params: 10*4 + (4*16 + 16 + 2*4*16 + 16 + 4 + 2*8) + 8 + 3*4 = 40 + 244 + 8 + 12 = 304; tokens 2 * 3 = 6
        assertEquals(304L, tiny.parameterCount());
        assertEquals(6L * 304 * 6 + 12L * 1 * 3 * 4 * 6, BenchModel.flopsPerStep(tiny, 2));
    }

    @Test
    void matmulFlops() {
        assertEquals(2.0 * 2048 * 2048 * 2048, BenchModel.matmulFlops(2048));
        assertEquals(17_179_869_184.0, BenchModel.matmulFlops(2048));
    }
}
