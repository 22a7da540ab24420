package org.align4j.bench;

import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

import org.align4j.api.model.ModelConfig;

/** The pipeline file the align4j side runs: the benchmark's model and optimizer, no evaluation, no samples. */
final class Pipeline {
    private Pipeline() {
    }

    /**
     * @param workDir the run's folder (fresh for every run: a run in a folder with checkpoints would resume)
     * @param docs documents of the generated arithmetic corpus
     */
    static String yaml(ModelConfig c, Path workDir, long seed, int docs, int steps, int batch) {
        String optimizer = BenchModel.optimizer().entrySet().stream()
                .map(e -> e.getKey() + ": " + value(e.getValue())).collect(Collectors.joining(", "));
        return String.join("\n",
                "# written by align4j-bench: the benchmark's model, trained through the align4j distribution",
                "run: { name: bench, workdir: '" + workDir.toString().replace("'", "''") + "', seed: " + seed + " }",
                "model:",
                "  vocab_size: " + c.vocabSize(),
                "  layers: " + c.layers(),
                "  d_model: " + c.dModel(),
                "  heads: " + c.heads(),
                "  ffn: " + c.ffn(),
                "  context: " + c.context(),
                "  norm: " + c.norm().name().toLowerCase(Locale.ROOT),
                "  norm_type: " + c.normType().name().toLowerCase(Locale.ROOT),
                "  positions: " + c.positions().name().toLowerCase(Locale.ROOT),
                "  tie_embeddings: " + c.tieEmbeddings(),
                "  attention: " + c.attention(),
                "  precision: " + c.precision().name().toLowerCase(Locale.ROOT),
                "data:",
                "  generate: { name: arithmetic, count: " + docs + " }",
                "  validation_fraction: 0.01",
                "  tokenizer: { type: bpe, vocab: " + c.vocabSize() + " }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { " + optimizer + " }",
                "    steps: " + steps,
                "    batch: " + batch,
                "    log_every: 1",
                "    eval: { every: 0, batches: 1 }",
                "    checkpoint: { every: 0, keep: 1 }",
                "    sample: { count: 0 }",
                "");
    }

    private static String value(Object v) {
        return String.valueOf(v); // numbers as Java writes them (3.0E-4 is a YAML float), words bare
    }
}
