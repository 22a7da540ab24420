package org.align4j.api.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Reads and writes weights as <a href="https://github.com/huggingface/safetensors">safetensors</a> (F32, row-major,
 * string metadata in the header) and model shapes as {@code config.json}, so they move to and from the Python
 * ecosystem. Writes go to a temporary file renamed into place: a crash leaves the old file whole.
 */
@ProviderType
public interface WeightStore {

    /**
     * A safetensors file's tensors, its {@code __metadata__}, and warnings about what was read but not understood
     * (since 1.1).
     */
    final class Weights {
        private final Map<String, TensorData> tensors;
        private final Map<String, String> metadata;
        private final List<String> warnings;

        public Weights(Map<String, TensorData> tensors, Map<String, String> metadata) {
            this(tensors, metadata, List.of());
        }

        /**
         * @param warnings each naming the file and what it has that was ignored, e.g.
         *            {@code model.safetensors: tensor "x": unknown key "layout" ignored}
         * @since 1.1
         */
        public Weights(Map<String, TensorData> tensors, Map<String, String> metadata, List<String> warnings) {
            this.tensors = Map.copyOf(tensors);
            this.metadata = Map.copyOf(metadata);
            this.warnings = List.copyOf(warnings);
        }

        /**
         * What the file holds that the reader ignored (unknown keys), one message each; empty when nothing was.
         *
         * @since 1.1
         */
        public List<String> warnings() {
            return warnings;
        }

        public Map<String, TensorData> tensors() {
            return tensors;
        }

        public Map<String, String> metadata() {
            return metadata;
        }
    }

    void save(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException;

    /**
     * Fails with the file name and what is wrong (truncated, bad header, unsupported dtype, data offsets outside the
     * data section, ...); what it can read but does not understand (an unknown key) comes back in
     * {@link Weights#warnings()}.
     */
    Weights load(Path file) throws IOException;

    void saveConfig(Path file, ModelConfig config) throws IOException;

    ModelConfig loadConfig(Path file) throws IOException;
}
