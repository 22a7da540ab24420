package org.align4j.itests;

import java.util.Hashtable;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A third party's attention kernel, packed by {@link ThirdPartyKernelIT} into a bundle of its own (with this class
 * as its activator) and installed into the running framework. It supports what pre-training needs: causal
 * self-attention over whole sequences (no cache offset, no padding mask), one key/value head per query head.
 * Each graph it is built into is counted in the system property {@value #CALLS}.
 */
public class ProbeAttention implements AttentionKernel, BundleActivator {
    static final String CALLS = "align4j.itest.probe.calls";
    static final String NAME = "probe-mha";

    @Override
    public void start(BundleContext context) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(AttentionKernel.NAME, NAME);
        context.registerService(AttentionKernel.class, this, props);
    }

    @Override
    public void stop(BundleContext context) {
        // the framework unregisters the service
    }

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        if (in.queryOffset() != null || in.keyMask() != null || !in.causal()) {
            throw new UnsupportedOperationException(NAME + " supports causal self-attention over whole sequences only");
        }
        System.setProperty(CALLS, Integer.toString(Integer.getInteger(CALLS, 0) + 1));
        Operand<TFloat32> q = in.query(); // [B, H, T, D]
        Operand<TFloat32> k = in.key(); // [B, H, T, D]
        Operand<TFloat32> v = in.value(); // [B, H, T, D]
        Operand<TInt32> shape = tf.shape(q); // [4]
        Operand<TInt32> t = tf.gather(shape, tf.constant(new int[] {2, 2}), tf.constant(0)); // [2] = {T, T}
        Operand<TFloat32> d = tf.dtypes.cast(tf.gather(shape, tf.constant(3), tf.constant(0)), TFloat32.class); // []
        Operand<TFloat32> scores = tf.math.div(
                tf.train.batchMatMul(q, k, TFloat32.class, BatchMatMul.adjY(true)), tf.math.sqrt(d)); // [B, H, T, T]
        Operand<TFloat32> allowed = tf.linalg.bandPart(tf.fill(t, tf.constant(1f)), tf.constant(-1), tf.constant(0));
        Operand<TFloat32> blocked = tf.math.mul(tf.math.sub(tf.constant(1f), allowed), tf.constant(-1e9f)); // [T, T]
        Operand<TFloat32> weights = tf.nn.softmax(tf.math.add(scores, blocked)); // [B, H, T, T]
        return tf.train.batchMatMul(weights, v, TFloat32.class); // [B, H, T, D]
    }
}
