package org.align4j.model;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.op.Ops;

/**
 * Creates {@link DecoderTransformer}s: GPT-2-style decoders whose variables are made here, at creation, under the
 * given prefix; see {@link DecoderTransformer} for the parameter names and the forward pass.
 *
 * <p>A training graph, for instance:
 *
 * <pre>
 * Transformer m = factory.create(tf, "policy.", config, attentionKernel);
 * Operand&lt;TFloat32&gt; logits = m.lmLogits(tf, m.hidden(tf, tokens, keyMask)); // [B, T, V]
 * Operand&lt;TFloat32&gt; loss = lmLoss.compute(tf, logits, targets, lossMask).loss();
 * Set&lt;GraphOperation&gt; used = graph.subgraphTo(Set.of(loss));
 * List&lt;Parameter&gt; trained = m.parameters().stream().filter(p -&gt; used.contains(p.variable().op())).toList();
 * Output&lt;?&gt;[] grads = graph.addGradients(loss.asOutput(), trained.stream().map(p -&gt; p.variable().asOutput())
 *         .toArray(Output&lt;?&gt;[]::new));
 * // open the session, then m.initialize(session, seed) or m.assign(session, weights, false)
 * </pre>
 */
@Component(service = TransformerFactory.class)
public final class TransformerFactoryImpl implements TransformerFactory {

    @Override
    public Transformer create(Ops tf, String prefix, ModelConfig config, AttentionKernel attention) {
        return new DecoderTransformer(tf, prefix, config, attention);
    }
}
