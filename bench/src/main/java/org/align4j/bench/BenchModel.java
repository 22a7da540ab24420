package org.align4j.bench;

import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.model.ModelConfig;

/**
 * The models and training setup every side of the benchmark trains, and the model-FLOPs formula. Two sizes
 * ({@link Size}), both with vocab 512, pre-norm LayerNorm, learned positions, tied embeddings and standard attention
 * "mha"; causal-lm loss; AdamW lr 3e-4, weight_decay 0.1, cosine, warmup 100, clip_norm 1.0:
 *
 * <pre>
 * small: 4 layers, d_model 256, 4 heads, context 128, batch 16 (2,048 tokens a step)
 * large: 6 layers, d_model 512, 8 heads, context 256, batch 8  (2,048 tokens a step)
 * </pre>
 */
public final class BenchModel {
    /** Blocks of {@code context} tokens per step of the small size. */
    public static final int BATCH = 16;
    /** Seed of both sides (align4j's run.seed, the plain side's model initialisation and random tokens). */
    public static final long SEED = 7L;

    /** The benchmark's model sizes. */
    public enum Size {
        SMALL(4, 256, 4, 128, BATCH),
        LARGE(6, 512, 8, 256, 8);

        final int layers;
        final int dModel;
        final int heads;
        final int context;
        final int batch;

        Size(int layers, int dModel, int heads, int context, int batch) {
            this.layers = layers;
            this.dModel = dModel;
            this.heads = heads;
            this.context = context;
            this.batch = batch;
        }

        /** Blocks of {@code context} tokens per step. */
        public int batch() {
            return batch;
        }

        /** Its name on command lines and in results: {@code small}, {@code large}. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The size named {@code label} ({@code small} or {@code large}). */
        public static Size of(String label) {
            for (Size s : values()) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("size \"" + label + "\": expected small or large");
        }
    }

    private BenchModel() {
    }

    /** The small size's model. */
    public static ModelConfig config() {
        return config(Size.SMALL);
    }

    public static ModelConfig config(Size size) {
        return ModelConfig.builder()
                .vocabSize(512)
                .layers(size.layers)
                .dModel(size.dModel)
                .heads(size.heads)
                .context(size.context)
                .norm(ModelConfig.NormPlacement.PRE)
                .normType(ModelConfig.NormType.LAYERNORM)
                .positions(ModelConfig.Positions.LEARNED)
                .tieEmbeddings(true)
                .attention("mha")
                .build();
    }

    /** The pipeline's {@code optimizer:} section, the same map on both sides. */
    public static Map<String, Object> optimizer() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "adamw");
        m.put("lr", 3.0e-4);
        m.put("weight_decay", 0.1);
        m.put("warmup", 100);
        m.put("schedule", "cosine");
        m.put("clip_norm", 1.0);
        return m;
    }

    /** Tokens one optimizer step trains on: {@code batch * context}. */
    public static long tokensPerStep(ModelConfig c, int batch) {
        return (long) batch * c.context();
    }

    /**
     * Model FLOPs of one training step (forward and backward; PaLM, appendix B; Chinchilla's {@code 6N} plus the
     * attention scores): {@code 6 * params * tokens + 12 * layers * context * dModel * tokens}.
     */
    public static long flopsPerStep(long params, int layers, int context, int dModel, long tokens) {
        long dense = Math.multiplyExact(Math.multiplyExact(6L, params), tokens);
        long attention = Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(12L, layers),
                context), dModel), tokens);
        return Math.addExact(dense, attention);
    }

    /** {@link #flopsPerStep(long, int, int, int, long)} of {@code c} with {@link ModelConfig#parameterCount()}. */
    public static long flopsPerStep(ModelConfig c, int batch) {
        return flopsPerStep(c.parameterCount(), c.layers(), c.context(), c.dModel(), tokensPerStep(c, batch));
    }

    /** FLOPs of one {@code n x n} by {@code n x n} matrix product: {@code 2 n^3}. */
    public static double matmulFlops(int n) {
        return 2.0 * n * n * n;
    }
}
