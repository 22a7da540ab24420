package org.align4j.generate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.Generator;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The {@link Generator} service: each session builds its model through the {@link TransformerFactory} service in a
 * graph of its own and opens its TensorFlow session through the {@link TensorFlowRuntime} (device, threads). See
 * {@link GenerationSessionImpl} for the graph and the batching, {@link Sampling} for the choice of tokens.
 */
@Component(service = Generator.class)
public final class GeneratorImpl implements Generator {
    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.safetensors";

    private final TransformerFactory models;
    private final WeightStore store;
    private final TensorFlowRuntime runtime;

    /** @param runtime may be {@code null} outside OSGi (tests): then sessions have TensorFlow's defaults */
    @Activate
    public GeneratorImpl(@Reference TransformerFactory models, @Reference WeightStore store,
            @Reference TensorFlowRuntime runtime) {
        this.models = models;
        this.store = store;
        this.runtime = runtime;
    }

    @Override
    public GenerationSession open(ModelConfig config, AttentionKernel attention, Map<String, TensorData> weights) {
        return new GenerationSessionImpl(models, runtime, config, attention, weights, List.of());
    }

    @Override
    public GenerationSession openFolder(Path modelFolder, AttentionKernel attention) throws IOException {
        if (!Files.isDirectory(modelFolder)) {
            throw new IOException(modelFolder + ": no such folder (a model folder holds " + CONFIG + ", " + WEIGHTS
                    + " and tokenizer.json, as a stage writes them to <workdir>/stage-<i>-<trainer>/model)");
        }
        for (String name : List.of(CONFIG, WEIGHTS)) {
            if (!Files.isRegularFile(modelFolder.resolve(name))) {
                throw new IOException(modelFolder + ": no " + name + " in the model folder (a model folder holds "
                        + CONFIG + ", " + WEIGHTS + " and tokenizer.json, as a stage writes them to"
                        + " <workdir>/stage-<i>-<trainer>/model)");
            }
        }
        ModelConfig config = store.loadConfig(modelFolder.resolve(CONFIG));
        WeightStore.Weights weights = store.load(modelFolder.resolve(WEIGHTS));
        try {
            return new GenerationSessionImpl(models, runtime, config, attention, weights.tensors(),
                    weights.warnings());
        } catch (IllegalArgumentException e) {
            throw new IOException(modelFolder.resolve(WEIGHTS) + " does not fit " + modelFolder.resolve(CONFIG)
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Operand<TFloat32> tokenLogProbs(Ops tf, Operand<TFloat32> logits, Operand<TInt32> targets) {
        return TokenLogProbs.compute(tf, logits, targets);
    }
}
