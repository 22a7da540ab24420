package org.align4j.api.model;

import org.align4j.api.attention.AttentionKernel;
import org.osgi.annotation.versioning.ProviderType;
import org.tensorflow.op.Ops;

/**
 * Creates {@link Transformer}s: the variables of one model in the graph of {@code tf}, under the name scope
 * {@code prefix} (so a policy and its frozen reference can live in one graph).
 */
@ProviderType
public interface TransformerFactory {
    Transformer create(Ops tf, String prefix, ModelConfig config, AttentionKernel attention);
}
