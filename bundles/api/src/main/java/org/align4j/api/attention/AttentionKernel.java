package org.align4j.api.attention;

import org.osgi.annotation.versioning.ConsumerType;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * An attention kernel: {@code softmax(Q K^T * scale + mask) V} or anything that computes the same function (a fused or
 * memory-saving variant). Registered as a service with {@link AttentionKernelService}; a model names the kernel it
 * wants by {@value #NAME}.
 *
 * <p>Implementations only add ops to the graph through {@code tf}; they hold no graph, session or tensor, so a kernel
 * bundle may stop after a graph is built without harming the runs that use it.
 *
 * <p>A kernel that attends over whole sequences only (no KV-cache offset, no padding mask) throws
 * {@link UnsupportedOperationException} when {@link AttentionInputs#queryOffset()} or {@link AttentionInputs#keyMask()}
 * is set, rather than ignoring them: training still uses it, and generation then recomputes the prefix for every new
 * token, one prompt at a time.
 */
@ConsumerType
public interface AttentionKernel {

    /** Service property: the name a pipeline selects the kernel by, e.g. {@code mha}. */
    String NAME = "align4j.name";

    /**
     * Service property: what the kernel does beyond causal attention with a key mask, any of {@link #CACHE},
     * {@link #GROUPED}, {@link #WINDOW}, {@link #ALIBI}. The pipeline refuses a model that needs something its kernel
     * does not list, naming the kernel and what is missing; a kernel given inputs it does not support must throw.
     *
     * @since 1.1
     */
    String SUPPORTS = "align4j.supports";

    /** {@link #SUPPORTS}: queries at an offset into longer keys (a KV cache, {@code queryOffset}). */
    String CACHE = "cache";

    /** {@link #SUPPORTS}: fewer key/value heads than query heads (grouped-query and multi-query attention). */
    String GROUPED = "grouped";

    /** {@link #SUPPORTS}: sliding-window attention ({@code window}). */
    String WINDOW = "window";

    /** {@link #SUPPORTS}: ALiBi's additive position bias ({@code alibiSlopes}). */
    String ALIBI = "alibi";

    /**
     * Adds attention to the graph.
     *
     * @return {@code [B, H, Tq, D]}: for each query head, the weighted sum of the values of its key/value head.
     */
    Operand<TFloat32> attend(Ops tf, AttentionInputs in);
}
