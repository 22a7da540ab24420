package org.align4j.api.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Reads and writes weights as <a href="https://github.com/huggingface/safetensors">safetensors</a> (F32, row-major,
 * string metadata in the header) and model shapes as {@code config.json}, so they move to and from the Python
 * ecosystem. Writes go to a temporary file renamed into place: a crash leaves the old file whole.
 */
@ProviderType
public interface WeightStore {

    /** A safetensors file's tensors and its {@code __metadata__}. */
    final class Weights {
        private final Map<String, TensorData> tensors;
        private final Map<String, String> metadata;

        public Weights(Map<String, TensorData> tensors, Map<String, String> metadata) {
            this.tensors = Map.copyOf(tensors);
            this.metadata = Map.copyOf(metadata);
        }

        public Map<String, TensorData> tensors() {
            return tensors;
        }

        public Map<String, String> metadata() {
            return metadata;
        }
    }

    void save(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException;

    /** Fails with the file name and what is wrong (truncated, bad header, unsupported dtype, ...). */
    Weights load(Path file) throws IOException;

    void saveConfig(Path file, ModelConfig config) throws IOException;

    ModelConfig loadConfig(Path file) throws IOException;
}
