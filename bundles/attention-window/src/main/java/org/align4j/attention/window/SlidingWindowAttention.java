package org.align4j.attention.window;

import java.util.List;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.attention.AttentionKernelService;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Sliding-window causal attention that never builds the {@code [T, T]} scores. With a window of {@code W} keys, query
 * {@code i} sees keys {@code i-W+1 .. i}; so the sequence is cut into chunks of {@code C = max(W, 32)} positions and
 * each chunk of queries is scored against its own chunk of keys and the one before it, {@code 2C} keys:
 *
 * <pre>
 * Q (scaled)  [B, H, T, D]   padded to N*C positions, grouped: [B, Hkv, N, G*C, D]   (G = H / Hkv query heads share
 * K, V        [B, Hkv, T, D] padded by C zero keys in front:  [B, Hkv, N, 2C, D]     a key/value head, no copies)
 * scores      [B, Hkv, N, G*C, 2C]     instead of [B, H, T, T]: time and memory T * 2C, not T^2
 * bias        -1e9 where d = C + i - j is outside [0, W), on chunk 0's padding keys and on padded keys (key mask);
 *             ALiBi's -slope * d
 * out         softmax(scores + bias) V, back to [B, H, T, D]
 * </pre>
 *
 * Without a query offset the queries and the keys are the same positions (self-attention over a whole sequence, as
 * the model calls it in training and scoring). The results are those of the reference kernel {@code mha} with the
 * same window (checked against it and against double-precision loops). A model without a window, and cached decoding (a query offset), take a plain masked path
 * that still reads only the keys the window can reach ({@code offset-W+1 ..}), so a decoding step costs {@code W}
 * keys however long the cache. Registered below {@code mha-fast} ({@code service.ranking} 5): a model with a window
 * much shorter than its context names it ({@code attention: sliding-window}).
 */
@Component(property = Constants.SERVICE_RANKING + ":Integer=5")
@AttentionKernelService(name = "sliding-window", supports = {AttentionKernel.CACHE, AttentionKernel.GROUPED,
    AttentionKernel.WINDOW, AttentionKernel.ALIBI})
public final class SlidingWindowAttention implements AttentionKernel {

    /** Added to the logit of a key a query must not see. */
    static final float HIDDEN = -1e9f;
    /** The smallest chunk: a window of a few keys still multiplies blocks of this many positions. */
    static final int MIN_CHUNK = 32;

    private final int minChunk;

    public SlidingWindowAttention() {
        this(MIN_CHUNK);
    }

    /** With chunks of at least {@code minChunk} positions (tests use small ones to cross many chunk edges). */
    SlidingWindowAttention(int minChunk) {
        if (minChunk < 1) {
            throw new IllegalArgumentException("minChunk must be at least 1, got " + minChunk);
        }
        this.minChunk = minChunk;
    }

    @Override
    public Operand<TFloat32> attend(Ops tf, AttentionInputs in) {
        check(in);
        Operand<TFloat32> q = tf.math.mul(in.query(), scale(tf, in)); // [B, H, Tq, D]
        if (in.window() > 0 && in.queryOffset() == null) {
            return chunked(tf, in, q, Math.max(in.window(), minChunk));
        }
        return sliced(tf, in, q);
    }

    /** Training and scoring (no cache): chunks of {@code c} queries against {@code 2c} keys. */
    private Operand<TFloat32> chunked(Ops tf, AttentionInputs in, Operand<TFloat32> q, int c) {
        Heads hd = Heads.of(tf, in);
        Operand<TInt32> cc = tf.constant(c);
        Operand<TInt32> t = dim(tf, q, 2); // []
        Operand<TInt32> pad = tf.math.floorMod(tf.math.sub(cc, tf.math.floorMod(t, cc)), cc); // [] to N*C
        Operand<TInt32> tp = tf.math.add(t, pad); // [] N*C
        Operand<TInt32> n = tf.math.div(tp, cc); // [] chunks
        Operand<TInt32> gc = tf.math.mul(hd.g, cc); // [] rows of a chunk: G query heads of C positions
        Operand<TInt32> zero = tf.constant(0);
        Operand<TInt32> minus = tf.constant(-1);

        Operand<TFloat32> qp = tf.pad(q, paddings(tf, zero, pad), tf.constant(0f)); // [B, H, N*C, D]
        Operand<TFloat32> rows; // [B, Hkv, N, G*C, D]
        if (hd.plain) {
            rows = tf.reshape(qp, stack(tf, hd.b, hd.hkv, n, cc, hd.d));
        } else { // [B*Hkv, G, N, C*D] -> [B*Hkv, N, G, C*D]: each chunk's rows are its G heads' C queries
            Operand<TFloat32> byHead = tf.reshape(qp, stack(tf, minus, hd.g, n, tf.math.mul(cc, hd.d)));
            rows = tf.reshape(tf.linalg.transpose(byHead, tf.constant(new int[] {0, 2, 1, 3})),
                    stack(tf, hd.b, hd.hkv, n, gc, hd.d));
        }
        Operand<TFloat32> keys = pairs(tf, in.key(), c, pad, tp, hd); // [B, Hkv, N, 2C, D]
        Operand<TFloat32> values = pairs(tf, in.value(), c, pad, tp, hd); // [B, Hkv, N, 2C, D]

        Operand<TInt32> keyPos = tf.range(zero, tf.constant(2 * c), tf.constant(1)); // [2C] previous chunk, then this
        Operand<TInt32> rowPos = tf.math.add(tf.math.floorMod(tf.range(zero, gc, tf.constant(1)), cc), cc); // [G*C]
        // chunk 0 has no previous chunk: its first C keys are padding
        Operand<TBool> real = tf.math.logicalOr(
                tf.math.greater(tf.expandDims(tf.range(zero, n, tf.constant(1)), tf.constant(1)), zero), // [N, 1]
                tf.math.greaterEqual(tf.expandDims(keyPos, zero), cc)); // [1, 2C]
        Operand<TFloat32> chunkKeys = tf.expandDims(tf.dtypes.cast(real, TFloat32.class), tf.constant(1)); // [N,1,2C]
        Operand<TFloat32> keyMask = null;
        if (in.keyMask() != null) { // [B, T] -> [B, 1, N, 1, 2C] like the keys
            Operand<TFloat32> m = tf.expandDims(tf.expandDims(in.keyMask(), tf.constant(1)), tf.constant(3));
            keyMask = tf.reshape(pairs(tf, m, c, pad, tp, null), stack(tf, hd.b, tf.constant(1), n,
                    tf.constant(1), tf.constant(2 * c)));
        }
        Operand<TFloat32> out = core(tf, in, hd, rows, keys, values, rowPos, keyPos, chunkKeys, keyMask,
                cc); // [B, Hkv, N, G*C, D]
        Operand<TFloat32> seq; // [B, H, N*C, D]
        if (hd.plain) {
            seq = tf.reshape(out, stack(tf, hd.b, hd.h, tp, hd.d));
        } else {
            Operand<TFloat32> byChunk = tf.reshape(out, stack(tf, minus, n, hd.g, tf.math.mul(cc, hd.d)));
            seq = tf.reshape(tf.linalg.transpose(byChunk, tf.constant(new int[] {0, 2, 1, 3})),
                    stack(tf, hd.b, hd.h, tp, hd.d));
        }
        return tf.slice(seq, tf.constant(new int[4]), stack(tf, minus, minus, t, minus)); // [B, H, T, D]
    }

    /**
     * {@code x} {@code [B, Hkv, T, D]} as {@code [B, Hkv, N, 2C, D]}: for each chunk the chunk before it (zeros before
     * the first) and itself. With {@code hd == null}, a key mask {@code [B, 1, T, 1]}, as {@code [B, 1, N, 2C, 1]}.
     */
    private static Operand<TFloat32> pairs(Ops tf, Operand<TFloat32> x, int c, Operand<TInt32> pad,
            Operand<TInt32> tp, Heads hd) {
        Operand<TInt32> minus = tf.constant(-1);
        Operand<TInt32> cc = tf.constant(c);
        Operand<TFloat32> front = tf.pad(x, paddings(tf, cc, pad), tf.constant(0f)); // [B, Hkv, C + N*C, D]
        Operand<TFloat32> before = tf.slice(front, tf.constant(new int[4]), stack(tf, minus, minus, tp, minus));
        Operand<TFloat32> own = tf.slice(front, stack(tf, tf.constant(0), tf.constant(0), cc, tf.constant(0)),
                tf.constant(new int[] {-1, -1, -1, -1}));
        Operand<TInt32> shape = hd == null
                ? stack(tf, minus, tf.constant(1), tf.math.div(tp, cc), cc, tf.constant(1))
                : stack(tf, hd.b, hd.hkv, tf.math.div(tp, cc), cc, hd.d); // [B, Hkv, N, C, D]
        return tf.concat(List.of(tf.reshape(before, shape), tf.reshape(own, shape)), tf.constant(3));
    }

    /** {@code [[0, 0], [0, 0], [front, back], [0, 0]]}: padding on the positions axis. */
    private static Operand<TInt32> paddings(Ops tf, Operand<TInt32> front, Operand<TInt32> back) {
        Operand<TInt32> none = tf.constant(new int[] {0, 0});
        return tf.stack(List.of(none, none, tf.stack(List.of(front, back)), none)); // [4, 2]
    }

    /**
     * Decoding with a cache, and any call without a window: the queries against the keys from the first one a query
     * can see ({@code offset - W + 1}, or 0), masked causally, by the window and by the key mask.
     */
    private static Operand<TFloat32> sliced(Ops tf, AttentionInputs in, Operand<TFloat32> q) {
        Heads hd = Heads.of(tf, in);
        Operand<TInt32> zero = tf.constant(0);
        Operand<TInt32> one = tf.constant(1);
        Operand<TInt32> offset = in.queryOffset() != null ? in.queryOffset() : zero; // []
        Operand<TInt32> tq = dim(tf, q, 2);
        Operand<TFloat32> k = in.key();
        Operand<TFloat32> v = in.value();
        Operand<TFloat32> mask = in.keyMask();
        Operand<TInt32> start = zero; // [] the first key any query sees
        if (in.causal() && in.window() > 0) {
            start = tf.math.maximum(zero, tf.math.sub(offset, tf.constant(in.window() - 1)));
            Operand<TInt32> all = tf.constant(new int[] {-1, -1, -1, -1});
            k = tf.slice(k, stack(tf, zero, zero, start, zero), all);
            v = tf.slice(v, stack(tf, zero, zero, start, zero), all);
            if (mask != null) {
                mask = tf.slice(mask, stack(tf, zero, start), tf.constant(new int[] {-1, -1}));
            }
        }
        Operand<TInt32> tk = dim(tf, k, 2);
        // [B, H, Tq, D] is [B, Hkv, 1, G*Tq, D]: one chunk whose rows are the G heads' queries
        Operand<TFloat32> rows = tf.reshape(q, stack(tf, hd.b, hd.hkv, one, tf.math.mul(hd.g, tq), hd.d));
        Operand<TInt32> rowPos = tf.math.add(tf.math.floorMod(tf.range(zero, tf.math.mul(hd.g, tq), one), tq),
                offset); // [G*Tq] absolute positions
        Operand<TInt32> keyPos = tf.math.add(tf.range(zero, tk, one), start); // [Tk']
        Operand<TFloat32> keyMask = mask == null ? null
                : tf.reshape(mask, stack(tf, hd.b, one, one, one, tk)); // [B, 1, 1, 1, Tk']
        Operand<TFloat32> out = core(tf, in, hd, rows, tf.expandDims(k, tf.constant(2)),
                tf.expandDims(v, tf.constant(2)), rowPos, keyPos, null, keyMask, tq); // [B, Hkv, 1, G*Tq, D]
        return tf.reshape(out, tf.shape(in.query())); // [B, H, Tq, D]
    }

    /**
     * The attention of rows {@code [B, Hkv, N, G*R, D]} (R positions of G query heads per chunk) on keys and values
     * {@code [B, Hkv, N, K, D]}, rows at positions {@code rowPos [G*R]} and keys at {@code keyPos [K]} (the same in
     * every chunk), {@code chunkKeys [N, 1, K]} 0 for a key a chunk lacks, {@code keyMask [B, 1, N|1, 1, K]}.
     */
    private static Operand<TFloat32> core(Ops tf, AttentionInputs in, Heads hd, Operand<TFloat32> rows,
            Operand<TFloat32> keys, Operand<TFloat32> values, Operand<TInt32> rowPos, Operand<TInt32> keyPos,
            Operand<TFloat32> chunkKeys, Operand<TFloat32> keyMask, Operand<TInt32> r) {
        Operand<TFloat32> scores = tf.train.batchMatMul(rows, keys, TFloat32.class,
                BatchMatMul.adjY(true)); // [B, Hkv, N, G*R, K]
        Operand<TInt32> distance = tf.math.sub(tf.expandDims(rowPos, tf.constant(1)),
                tf.expandDims(keyPos, tf.constant(0))); // [G*R, K] query position - key position
        Operand<TFloat32> allowed = null; // 1 visible, 0 hidden; null: every key visible
        if (in.causal()) {
            Operand<TBool> visible = tf.math.greaterEqual(distance, tf.constant(0));
            if (in.window() > 0) {
                visible = tf.math.logicalAnd(visible, tf.math.less(distance, tf.constant(in.window())));
            }
            allowed = tf.dtypes.cast(visible, TFloat32.class); // [G*R, K]
        }
        for (Operand<TFloat32> m : java.util.Arrays.asList(chunkKeys, keyMask)) {
            if (m != null) {
                Operand<TFloat32> bits = tf.dtypes.cast(tf.math.greater(m, tf.constant(0f)), TFloat32.class);
                allowed = allowed == null ? bits : tf.math.mul(allowed, bits);
            }
        }
        Operand<TFloat32> bias = allowed == null ? null
                : tf.math.mul(tf.math.sub(tf.constant(1f), allowed), tf.constant(HIDDEN)); // 0 or -1e9
        if (in.alibiSlopes() != null) { // slope of each row's head: [H] -> [Hkv, 1, G*R, 1]
            Operand<TFloat32> perHead = tf.reshape(tf.constant(in.alibiSlopes()), stack(tf, hd.hkv, hd.g,
                    tf.constant(1)));
            Operand<TFloat32> perRow = tf.reshape(tf.tile(perHead, stack(tf, tf.constant(1), tf.constant(1), r)),
                    stack(tf, hd.hkv, tf.constant(1), tf.constant(-1), tf.constant(1)));
            Operand<TFloat32> alibi = tf.math.mul(tf.math.neg(perRow),
                    tf.math.abs(tf.dtypes.cast(distance, TFloat32.class))); // [Hkv, 1, G*R, K]
            bias = bias == null ? alibi : tf.math.add(bias, alibi);
        }
        if (bias != null) {
            scores = tf.math.add(scores, bias);
        }
        Operand<TFloat32> weights = tf.nn.softmax(scores); // [B, Hkv, N, G*R, K]
        if (keyMask != null) {
            weights = tf.math.mul(weights, allowed); // a row that sees only padding gets zeros
        }
        return tf.train.batchMatMul(weights, values, TFloat32.class); // [B, Hkv, N, G*R, D]
    }

    /** The sizes of a call: batch, query heads, key/value heads, heads per group, head size. */
    private record Heads(Operand<TInt32> b, Operand<TInt32> h, Operand<TInt32> hkv, Operand<TInt32> g,
            Operand<TInt32> d, boolean plain) {
        static Heads of(Ops tf, AttentionInputs in) {
            Shape qs = in.query().shape();
            Shape ks = in.key().shape();
            boolean plain = !qs.isUnknown() && !ks.isUnknown() && qs.size(1) > 0 && qs.size(1) == ks.size(1);
            Operand<TInt32> h = dim(tf, in.query(), 1);
            Operand<TInt32> hkv = dim(tf, in.key(), 1);
            return new Heads(dim(tf, in.query(), 0), h, hkv, plain ? tf.constant(1) : tf.math.div(h, hkv),
                    dim(tf, in.query(), 3), plain);
        }
    }

    private static void check(AttentionInputs in) {
        if (in.window() > 0 && !in.causal()) {
            throw new IllegalArgumentException("attention \"sliding-window\": a window (" + in.window() + " keys)"
                    + " needs causal attention: it counts the keys before the query");
        }
        Shape qs = in.query().shape();
        Shape ks = in.key().shape();
        boolean known = !qs.isUnknown() && !ks.isUnknown() && qs.numDimensions() == 4 && ks.numDimensions() == 4;
        if (known && qs.size(1) > 0 && ks.size(1) > 0 && qs.size(1) % ks.size(1) != 0) {
            throw new IllegalArgumentException("attention \"sliding-window\": " + qs.size(1) + " query heads cannot"
                    + " share " + ks.size(1) + " key heads: the number of query heads must be a multiple of the"
                    + " key/value heads");
        }
        if (in.alibiSlopes() != null && known && qs.size(1) > 0 && qs.size(1) != in.alibiSlopes().length) {
            throw new IllegalArgumentException("attention \"sliding-window\": " + in.alibiSlopes().length
                    + " ALiBi slopes for " + qs.size(1) + " query heads: give one per head");
        }
    }

    /** The logit scale: the call's, else {@code 1/sqrt(D)}, folded to a constant where the head size is static. */
    private static Operand<TFloat32> scale(Ops tf, AttentionInputs in) {
        Shape qs = in.query().shape();
        long d = qs.isUnknown() || qs.numDimensions() != 4 ? -1 : qs.size(3);
        if (in.scale() == null && d <= 0) {
            return tf.math.rsqrt(tf.dtypes.cast(dim(tf, in.query(), 3), TFloat32.class));
        }
        return tf.constant(in.scale() != null ? in.scale() : (float) Math.pow(d, -0.5));
    }

    @SafeVarargs
    private static Operand<TInt32> stack(Ops tf, Operand<TInt32>... dims) {
        return tf.stack(List.of(dims));
    }

    private static Operand<TInt32> dim(Ops tf, Operand<?> x, int axis) {
        return tf.gather(tf.shape(x), tf.constant(axis), tf.constant(0)); // []
    }
}
