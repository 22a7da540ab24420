package org.align4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.align4j.api.attention.AttentionInputs;
import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.CachedForward;
import org.align4j.api.model.KeyValueCache;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.NormPlacement;
import org.align4j.api.model.ModelConfig.NormType;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A decoder-only Transformer (GPT-2's layout) whose variables are created once, in the constructor; every forward
 * call adds ops that read the same variables.
 *
 * <h2>Parameters</h2> Names below follow the model prefix ({@code policy.tok_emb.weight}); matmul weights are stored
 * {@code [in, out]} and applied as {@code x @ W} (GPT-2's {@code Conv1D} layout; PyTorch's {@code nn.Linear} stores
 * the transpose). In this order:
 *
 * <pre>
 * tok_emb.weight                  [V, d]      N(0, std)   decay only when tied (it is then the LM head's matmul weight)
 * pos_emb.weight                  [context, d] N(0, std)  learned positions only; sinusoidal ones are a constant
 * blocks.{i}.ln_1.weight / .bias  [d]         1 / 0       .bias with layernorm only
 * blocks.{i}.attn.q.weight / .bias [d, d] / [d]
 * blocks.{i}.attn.k.weight / .bias [d, kv] / [kv]         kv = kv_heads * head size (d with multi-head attention);
 *                                                         also .v
 * blocks.{i}.attn.o.weight / .bias [d, d] / [d]           weight N(0, std / sqrt(2 * layers))
 * blocks.{i}.ln_2.weight / .bias  [d]
 * blocks.{i}.mlp.fc.weight / .bias [d, ffn] / [ffn]
 * blocks.{i}.mlp.proj.weight / .bias [ffn, d] / [d]       weight N(0, std / sqrt(2 * layers))
 * ln_f.weight / .bias             [d]                     pre-norm only
 * lm_head.weight                  [d, V]                  untied only
 * score_head.weight               [d]         N(0, std)   the scalar head, always present
 * score_head.bias                 [1]         0
 * cls_head.weight                 [d, C]      N(0, std)   the classification head, only when classes C &gt; 0
 * cls_head.bias                   [C]         0
 * cls_head.likelihood             [2, C]      0 / prior   its likelihood weights, only with classes &gt; 0 and
 *                                                         score_likelihood; with likelihood_reference they start
 *                                                         from the prior +1 toward class 0, -1 toward class C-1
 * score_head.likelihood           [2]         1           the scalar head's, only with classes 0 and a likelihood
 *                                                         reference (likelihood_reference)
 * </pre>
 * {@code decay} is true exactly for matmul weights: q/k/v/o, fc/proj, lm_head (or the tied tok_emb), score_head and
 * cls_head weight; never for biases, gains or position embeddings. The classification head is created last, so a
 * model without one ({@code classes = 0}) has the same variables, ops and initial values as before it existed.
 *
 * <h2>Forward</h2> Inside the blocks the residual stream is kept as {@code [N, d]} with {@code N = B * T}, so every
 * projection is one rank-2 MatMul; only attention sees {@code [B, H, T, D]}. Pre-norm blocks compute
 * {@code x + Attn(LN1(x))} then {@code x + MLP(LN2(x))} and end with {@code ln_f}; post-norm blocks compute
 * {@code LN1(x + Attn(x))} then {@code LN2(x + MLP(x))} and have no final norm. The feed-forward uses GELU in its tanh
 * form {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))} (GPT-2's {@code gelu_new}). No dropout. {@link #hidden(Ops, Operand, Operand)} places
 * the tokens at positions {@code 0 .. T-1} whatever the padding, so its batches should be right-padded; the overloads
 * with explicit {@code [B, T]} positions take each row's own positions (left-padded batches, a KV cache).
 *
 * <h2>KV cache</h2> {@link #hiddenCached} runs the same blocks on new tokens only: each block appends the keys and
 * values of the new tokens to the cached ones ({@code [B, Hkv, P, D]} to {@code [B, Hkv, P + Tn, D]}, {@code Hkv} the
 * model's {@code kv_heads}: a grouped-query model caches fewer heads than it queries) and the kernel sees
 * the queries at offset {@code P}. The cache holds one slot per fed token, padding included, so the key mask has
 * {@code P + Tn} columns; slots and positions differ in left-padded rows, which is why positions are explicit.
 *
 * <p>Every op has a gradient in TensorFlow's C++ registry; training needs no Java gradient. Heads that a loss does not
 * use (the scalar head in language-model training, an untied {@code lm_head} in reward training) are unreachable from
 * that loss, and {@code Graph.addGradients} refuses unreachable inputs: differentiate only the parameters in
 * {@code graph.subgraphTo(Set.of(loss))}.
 */
final class DecoderTransformer implements Transformer {

    private static final Pattern PREFIX = Pattern.compile("([A-Za-z0-9][A-Za-z0-9_\\-]*(\\.[A-Za-z0-9_\\-]+)*)?\\.?");

    /** A parameter with the ops that set it. */
    private static final class Slot {
        final Parameter parameter;
        final String localName;
        final Initializer.Kind init;
        final Placeholder<TFloat32> value;
        final Assign<TFloat32> assign;

        Slot(Parameter parameter, String localName, Initializer.Kind init, Placeholder<TFloat32> value,
                Assign<TFloat32> assign) {
            this.parameter = parameter;
            this.localName = localName;
            this.init = init;
            this.value = value;
            this.assign = assign;
        }
    }

    /** The variables of one block; the norm biases are null with RMSNorm. */
    private static final class Block {
        Variable<TFloat32> ln1Gain, ln1Bias, qW, qB, kW, kB, vW, vB, oW, oB, ln2Gain, ln2Bias, fcW, fcB, projW, projB;
    }

    private final ModelConfig config;
    private final String prefix;
    private final AttentionKernel attention;
    private final List<Slot> slots = new ArrayList<>();
    private final Map<String, Slot> byName = new LinkedHashMap<>();
    private final List<Parameter> parameters;

    private final Variable<TFloat32> tokEmb;
    private final Operand<TFloat32> positionTable; // [context, d] the variable, the sinusoidal constant, or null
                                                   // (rope and alibi add no position vector)
    private final List<Block> blocks = new ArrayList<>();
    private final Variable<TFloat32> lnFGain;
    private final Variable<TFloat32> lnFBias;
    private final Variable<TFloat32> lmHead;
    private final Variable<TFloat32> scoreW;
    private final Variable<TFloat32> scoreB;
    private final Variable<TFloat32> clsW; // null when classes = 0
    private final Variable<TFloat32> clsLik; // [2, C]; null unless classes > 0 and score_likelihood
    private final Variable<TFloat32> scoreLik; // [2]; null unless classes == 0 and likelihood_reference
    private final Variable<TFloat32> clsB;

    DecoderTransformer(Ops tf, String prefix, ModelConfig config, AttentionKernel attention) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("model prefix \"" + prefix + "\": expected \"\" or dot-separated"
                    + " names of letters, digits, '_' and '-' such as \"policy.\"");
        }
        this.prefix = prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
        this.config = config;
        this.attention = java.util.Objects.requireNonNull(attention, "attention");
        Ops scope = this.prefix.isEmpty() ? tf : tf.withSubScope(this.prefix.substring(0, this.prefix.length() - 1));
        int d = config.dModel();
        int v = config.vocabSize();
        boolean layerNorm = config.normType() == NormType.LAYERNORM;

        tokEmb = add(scope, "tok_emb.weight", Shape.of(v, d), config.tieEmbeddings(), Initializer.Kind.NORMAL);
        if (config.positions() == Positions.LEARNED) {
            positionTable = add(scope, "pos_emb.weight", Shape.of(config.context(), d), false,
                    Initializer.Kind.NORMAL);
        } else if (config.positions() == Positions.SINUSOIDAL) {
            positionTable = scope.withName("pos_sinusoidal").constant(
                    Shape.of(config.context(), d), DataBuffers.of(sinusoidal(config.context(), d), true, false));
        } else {
            positionTable = null;
        }
        int kv = config.kvHeads() * config.headSize(); // width of the key and value projections
        for (int i = 0; i < config.layers(); i++) {
            String p = "blocks." + i + ".";
            Block b = new Block();
            b.ln1Gain = add(scope, p + "ln_1.weight", Shape.of(d), false, Initializer.Kind.ONES);
            b.ln1Bias = layerNorm ? add(scope, p + "ln_1.bias", Shape.of(d), false, Initializer.Kind.ZEROS) : null;
            b.qW = add(scope, p + "attn.q.weight", Shape.of(d, d), true, Initializer.Kind.NORMAL);
            b.qB = add(scope, p + "attn.q.bias", Shape.of(d), false, Initializer.Kind.ZEROS);
            b.kW = add(scope, p + "attn.k.weight", Shape.of(d, kv), true, Initializer.Kind.NORMAL);
            b.kB = add(scope, p + "attn.k.bias", Shape.of(kv), false, Initializer.Kind.ZEROS);
            b.vW = add(scope, p + "attn.v.weight", Shape.of(d, kv), true, Initializer.Kind.NORMAL);
            b.vB = add(scope, p + "attn.v.bias", Shape.of(kv), false, Initializer.Kind.ZEROS);
            b.oW = add(scope, p + "attn.o.weight", Shape.of(d, d), true, Initializer.Kind.RESIDUAL);
            b.oB = add(scope, p + "attn.o.bias", Shape.of(d), false, Initializer.Kind.ZEROS);
            b.ln2Gain = add(scope, p + "ln_2.weight", Shape.of(d), false, Initializer.Kind.ONES);
            b.ln2Bias = layerNorm ? add(scope, p + "ln_2.bias", Shape.of(d), false, Initializer.Kind.ZEROS) : null;
            b.fcW = add(scope, p + "mlp.fc.weight", Shape.of(d, config.ffn()), true, Initializer.Kind.NORMAL);
            b.fcB = add(scope, p + "mlp.fc.bias", Shape.of(config.ffn()), false, Initializer.Kind.ZEROS);
            b.projW = add(scope, p + "mlp.proj.weight", Shape.of(config.ffn(), d), true, Initializer.Kind.RESIDUAL);
            b.projB = add(scope, p + "mlp.proj.bias", Shape.of(d), false, Initializer.Kind.ZEROS);
            blocks.add(b);
        }
        if (config.norm() == NormPlacement.PRE) {
            lnFGain = add(scope, "ln_f.weight", Shape.of(d), false, Initializer.Kind.ONES);
            lnFBias = layerNorm ? add(scope, "ln_f.bias", Shape.of(d), false, Initializer.Kind.ZEROS) : null;
        } else {
            lnFGain = null;
            lnFBias = null;
        }
        lmHead = config.tieEmbeddings() ? null
                : add(scope, "lm_head.weight", Shape.of(d, v), true, Initializer.Kind.NORMAL);
        scoreW = add(scope, "score_head.weight", Shape.of(d), true, Initializer.Kind.NORMAL);
        scoreB = add(scope, "score_head.bias", Shape.of(1), false, Initializer.Kind.ZEROS);
        int classes = config.classes();
        if (classes > 0) { // after every other parameter: a model without the head is built exactly as before
            clsW = add(scope, "cls_head.weight", Shape.of(d, classes), true, Initializer.Kind.NORMAL);
            clsB = add(scope, "cls_head.bias", Shape.of(classes), false, Initializer.Kind.ZEROS);
        } else {
            clsW = null;
            clsB = null;
        }
        // a process reward model scoring with its likelihood: weights of each step's [min, mean] token log-prob
        clsLik = classes > 0 && config.scoreLikelihood()
                ? add(scope, "cls_head.likelihood", Shape.of(2, classes), false, config.likelihoodReference()
                        ? Initializer.Kind.LIKELIHOOD_PRIOR : Initializer.Kind.ZEROS)
                : null;
        // an outcome reward model scoring with a reference's likelihood: weights of the completion's [min, mean]
        scoreLik = classes == 0 && config.likelihoodReference()
                ? add(scope, "score_head.likelihood", Shape.of(2), false, Initializer.Kind.ONES)
                : null;
        List<Parameter> ps = new ArrayList<>();
        for (Slot s : slots) {
            ps.add(s.parameter);
        }
        parameters = Collections.unmodifiableList(ps);
    }

    /** Creates a variable, the placeholder and assign op that set it, and records it as a parameter. */
    private Variable<TFloat32> add(Ops scope, String localName, Shape shape, boolean decay, Initializer.Kind init) {
        Variable<TFloat32> variable = scope.withName(localName).variable(shape, TFloat32.class);
        String tail = (prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1) + "/") + localName;
        String opName = variable.op().name();
        if (!opName.equals(tail) && !opName.endsWith("/" + tail)) { // TensorFlow made a name unique: prefix taken
            throw new IllegalArgumentException("model prefix \"" + prefix + "\": this graph already holds a model"
                    + " with that prefix (variable " + variable.op().name() + " had to be renamed); give each model"
                    + " in a graph its own prefix, e.g. \"policy.\" and \"ref.\"");
        }
        Placeholder<TFloat32> value = scope.withName(localName + "_value").placeholder(TFloat32.class,
                Placeholder.shape(shape));
        Assign<TFloat32> assign = scope.withName(localName + "_assign").assign(variable, value);
        Slot slot = new Slot(new Parameter(prefix + localName, variable, shape, decay), localName, init, value,
                assign);
        slots.add(slot);
        byName.put(slot.parameter.name(), slot);
        return variable;
    }

    /** {@code PE[p, 2i] = sin(p / 10000^(2i/d))}, {@code PE[p, 2i+1] = cos(p / 10000^(2i/d))}, row-major. */
    static float[] sinusoidal(int context, int d) {
        float[] table = new float[context * d];
        for (int p = 0; p < context; p++) {
            for (int j = 0; j < d; j++) {
                double angle = p / StrictMath.pow(10000.0, (double) (j - (j % 2)) / d);
                table[p * d + j] = (float) (j % 2 == 0 ? StrictMath.sin(angle) : StrictMath.cos(angle));
            }
        }
        return table;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int keyValueHeads() {
        return config.kvHeads();
    }

    @Override
    public Operand<TFloat32> hidden(Ops outer, Operand<TInt32> tokens, Operand<TFloat32> keyMask) {
        Ops tf = scoped(outer);
        int d = config.dModel();
        Operand<TInt32> tokenShape = tf.shape(tokens); // [2] = (B, T)
        Operand<TInt32> t = tf.gather(tokenShape, tf.constant(1), tf.constant(0)); // [] T
        Op fits = tf.assertThat(tf.math.lessEqual(t, tf.constant(config.context())), List.of(
                tf.constant("tokens have more positions than the context of the model (model.context = "
                        + config.context() + "); positions:"), t));
        Operand<TInt32> positions = tf.withControlDependencies(List.of(fits))
                .range(tf.constant(0), t, tf.constant(1)); // [T]

        Ops e = tf.withSubScope("embed");
        Operand<TFloat32> x = positionTable == null
                ? e.withControlDependencies(List.of(fits)).identity(e.gather(tokEmb, tokens, e.constant(0)))
                : e.math.add(e.gather(tokEmb, tokens, e.constant(0)), // [B, T, d]
                        e.gather(positionTable, positions, e.constant(0))); // [T, d]
        Operand<TFloat32> h = e.reshape(x, e.constant(new int[] {-1, d})); // [N, d]
        h = blocks(tf, h, tokenShape, config.positions() == Positions.ROPE ? tf.expandDims(positions,
                tf.constant(0)) : null, keyMask, null, null, null); // [N, d]
        return tf.reshape(h, withLast(tf, tokenShape, d)); // [B, T, d]
    }

    @Override
    public Operand<TFloat32> hidden(Ops outer, Operand<TInt32> tokens, Operand<TInt32> positions,
            Operand<TFloat32> keyMask) {
        if (positions == null) {
            return hidden(outer, tokens, keyMask);
        }
        Ops tf = scoped(outer);
        int d = config.dModel();
        Operand<TInt32> tokenShape = tf.shape(tokens); // [2] = (B, T)
        Operand<TFloat32> h = embed(tf, tokens, positions); // [N, d]
        h = blocks(tf, h, tokenShape, positions, keyMask, null, null, null); // [N, d]
        return tf.reshape(h, withLast(tf, tokenShape, d)); // [B, T, d]
    }

    @Override
    public CachedForward hiddenCached(Ops outer, Operand<TInt32> tokens, Operand<TInt32> positions,
            Operand<TFloat32> keyMask, KeyValueCache past) {
        java.util.Objects.requireNonNull(positions, "positions");
        java.util.Objects.requireNonNull(past, "past");
        if (past.layers() != config.layers()) {
            throw new IllegalArgumentException("the key/value cache has " + past.layers() + " layers, the model "
                    + config.layers() + ": pass one key and one value operand per block");
        }
        Ops tf = scoped(outer);
        int d = config.dModel();
        Operand<TInt32> tokenShape = tf.shape(tokens); // [2] = (B, Tn)
        Operand<TFloat32> h = embed(tf, tokens, positions); // [N, d] with N = B * Tn
        List<Operand<TFloat32>> keys = new ArrayList<>();
        List<Operand<TFloat32>> values = new ArrayList<>();
        h = blocks(tf, h, tokenShape, positions, keyMask, past, keys, values); // [N, d]
        return new CachedForward(tf.reshape(h, withLast(tf, tokenShape, d)), // [B, Tn, d]
                new KeyValueCache(keys, values)); // each [B, Hkv, P + Tn, D]
    }

    /**
     * The name scope of this model's forward ops: its prefix ({@code policy/block0/attn/q/MatMul}), or {@code model}
     * without one, so a traced step (or a graph with several models) tells whose op ran.
     */
    private Ops scoped(Ops tf) {
        return tf.withSubScope(prefix.isEmpty() ? "model" : prefix.substring(0, prefix.length() - 1));
    }

    /**
     * Token plus position embedding at explicit per-row positions, checked to lie in {@code [0, context)}.
     *
     * @return {@code [N, d]}
     */
    private Operand<TFloat32> embed(Ops outer, Operand<TInt32> tokens, Operand<TInt32> positions) {
        Ops tf = outer.withSubScope("embed");
        Operand<TInt32> all = tf.reshape(positions, tf.constant(new int[] {-1})); // [N]
        Operand<TInt32> largest = tf.max(all, tf.constant(0)); // []
        Operand<TInt32> smallest = tf.min(all, tf.constant(0)); // []
        Op fits = tf.assertThat(tf.math.logicalAnd(
                tf.math.less(largest, tf.constant(config.context())),
                tf.math.greaterEqual(smallest, tf.constant(0))),
                List.of(tf.constant("a position lies outside 0 .. model.context - 1 (model.context = "
                        + config.context() + "): shorten the prompt or generate fewer tokens; smallest and largest"
                        + " position:"), smallest, largest));
        Operand<TFloat32> x = positionTable == null
                ? tf.withControlDependencies(List.of(fits)).identity(tf.gather(tokEmb, tokens, tf.constant(0)))
                : tf.math.add(tf.gather(tokEmb, tokens, tf.constant(0)), // [B, T, d]
                        tf.gather(positionTable, tf.withControlDependencies(List.of(fits)).identity(positions),
                                tf.constant(0))); // [B, T, d]
        return tf.reshape(x, tf.constant(new int[] {-1, config.dModel()})); // [N, d]
    }

    /**
     * The blocks (and the final norm in pre-norm form) on the residual stream {@code h} {@code [N, d]}. With
     * {@code past}, each block's new keys and values are appended to its cached ones and collected in
     * {@code keysOut}/{@code valuesOut}; without it, the ops are exactly those of the uncached forward.
     */
    private Operand<TFloat32> blocks(Ops tf, Operand<TFloat32> h, Operand<TInt32> tokenShape,
            Operand<TInt32> positions, Operand<TFloat32> keyMask, KeyValueCache past,
            List<Operand<TFloat32>> keysOut, List<Operand<TFloat32>> valuesOut) {
        Rotation rotation = config.positions() == Positions.ROPE ? rotation(tf, positions) : null;
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            Operand<TFloat32> pastK = past == null ? null : past.keys().get(i); // [B, Hkv, P, D]
            Operand<TFloat32> pastV = past == null ? null : past.values().get(i); // [B, Hkv, P, D]
            // name scopes (block0/ln_1, block0/attn/q, block0/mlp/gelu, ...) say where a traced op belongs
            Ops bt = tf.withSubScope("block" + i);
            if (config.norm() == NormPlacement.PRE) {
                h = bt.math.add(h, selfAttention(bt.withSubScope("attn"), norm(bt.withSubScope("ln_1"), h, b.ln1Gain,
                        b.ln1Bias), b, tokenShape, rotation, keyMask, pastK, pastV, keysOut, valuesOut)); // [N, d]
                h = bt.math.add(h, mlp(bt.withSubScope("mlp"), norm(bt.withSubScope("ln_2"), h, b.ln2Gain,
                        b.ln2Bias), b)); // [N, d]
            } else {
                h = norm(bt.withSubScope("ln_1"), bt.math.add(h, selfAttention(bt.withSubScope("attn"), h, b,
                        tokenShape, rotation, keyMask, pastK, pastV, keysOut, valuesOut)), b.ln1Gain,
                        b.ln1Bias); // [N, d]
                h = norm(bt.withSubScope("ln_2"), bt.math.add(h, mlp(bt.withSubScope("mlp"), h, b)), b.ln2Gain,
                        b.ln2Bias); // [N, d]
            }
        }
        if (config.norm() == NormPlacement.PRE) {
            h = norm(tf.withSubScope("ln_f"), h, lnFGain, lnFBias); // [N, d]
        }
        return h;
    }

    /**
     * Causal multi-head self-attention through the kernel, with output projection. x: {@code [N, d]}. With a cache
     * ({@code pastK != null}) the new keys and values follow the cached ones and the queries start at offset
     * {@code P}; the concatenated keys and values are added to {@code keysOut} and {@code valuesOut}.
     */
    private Operand<TFloat32> selfAttention(Ops tf, Operand<TFloat32> x, Block b, Operand<TInt32> tokenShape,
            Rotation rotation, Operand<TFloat32> keyMask, Operand<TFloat32> pastK, Operand<TFloat32> pastV,
            List<Operand<TFloat32>> keysOut, List<Operand<TFloat32>> valuesOut) {
        Operand<TFloat32> q = splitHeads(tf, linear(tf.withSubScope("q"), x, b.qW, b.qB), tokenShape,
                config.heads()); // [B, H, T, D]
        Operand<TFloat32> k = splitHeads(tf, linear(tf.withSubScope("k"), x, b.kW, b.kB), tokenShape,
                config.kvHeads()); // [B, Hkv, T, D]
        Operand<TFloat32> v = splitHeads(tf, linear(tf.withSubScope("v"), x, b.vW, b.vB), tokenShape,
                config.kvHeads()); // [B, Hkv, T, D]
        if (rotation != null) { // new keys are rotated before they join the cache: cached keys are rotated already
            q = rotation.apply(tf, q); // [B, H, T, D]
            k = rotation.apply(tf, k); // [B, Hkv, T, D]
        }
        Operand<TInt32> offset = null;
        if (pastK != null) {
            offset = tf.gather(tf.shape(pastK), tf.constant(2), tf.constant(0)); // [] P
            k = tf.concat(List.of(pastK, k), tf.constant(2)); // [B, Hkv, P + T, D]
            v = tf.concat(List.of(pastV, v), tf.constant(2)); // [B, Hkv, P + T, D]
            keysOut.add(k);
            valuesOut.add(v);
        }
        AttentionInputs in = AttentionInputs.of(q, k, v).withWindow(config.window());
        if (config.positions() == Positions.ALIBI) {
            in.withAlibiSlopes(config.alibiSlopes());
        }
        if (offset != null) {
            in.withQueryOffset(offset);
        }
        if (keyMask != null) {
            in.withKeyMask(keyMask);
        }
        Operand<TFloat32> heads = attention.attend(tf, in); // [B, H, T, D]
        Operand<TFloat32> merged = tf.reshape(
                tf.linalg.transpose(heads, tf.constant(new int[] {0, 2, 1, 3})), // [B, T, H, D]
                tf.constant(new int[] {-1, config.dModel()})); // [N, d]
        return linear(tf.withSubScope("o"), merged, b.oW, b.oB); // [N, d]
    }

    /** Rotary embeddings' cosines and sines at the tokens' positions, each {@code [B|1, 1, T, D]}. */
    private record Rotation(Operand<TFloat32> cos, Operand<TFloat32> sin) {
        /**
         * {@code x cos + rotate_half(x) sin} with {@code rotate_half([x1, x2]) = [-x2, x1]} (halves of the head):
         * dimensions {@code e} and {@code e + D/2} turn together by the angle of frequency {@code e}.
         */
        Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
            List<Output<TFloat32>> halves = tf.split(tf.constant(3), x, 2L).output(); // 2 x [B, h, T, D/2]
            Operand<TFloat32> rotated = tf.concat(List.of(tf.math.neg(halves.get(1)), halves.get(0)),
                    tf.constant(3)); // [B, h, T, D]
            return tf.math.add(tf.math.mul(x, cos), tf.math.mul(rotated, sin)); // [B, h, T, D]
        }
    }

    /**
     * The rotation for {@code positions} ({@code [B, T]}, or {@code [1, T]} for every row): angle
     * {@code p * rope_base^(-2e/D)} for frequency {@code e < D/2}, used for dimensions {@code e} and {@code e + D/2}.
     */
    private Rotation rotation(Ops tf, Operand<TInt32> positions) {
        int half = config.headSize() / 2;
        float[] inverse = new float[half];
        for (int e = 0; e < half; e++) {
            inverse[e] = (float) Math.pow(config.ropeBase(), -2.0 * e / config.headSize());
        }
        Operand<TFloat32> angles = tf.math.mul(
                tf.expandDims(tf.dtypes.cast(positions, TFloat32.class), tf.constant(-1)), // [B, T, 1]
                tf.constant(inverse)); // [B, T, D/2]
        Operand<TFloat32> both = tf.expandDims(tf.concat(List.of(angles, angles), tf.constant(-1)),
                tf.constant(1)); // [B, 1, T, D]
        return new Rotation(tf.math.cos(both), tf.math.sin(both));
    }

    /** {@code [N, heads * D]} to {@code [B, heads, T, D]}. */
    private Operand<TFloat32> splitHeads(Ops tf, Operand<TFloat32> x, Operand<TInt32> tokenShape, int heads) {
        Operand<TInt32> shape = tf.concat(List.of(tokenShape,
                tf.constant(new int[] {heads, config.headSize()})), tf.constant(0)); // [4]
        return tf.linalg.transpose(tf.reshape(x, shape), // [B, T, heads, D]
                tf.constant(new int[] {0, 2, 1, 3})); // [B, heads, T, D]
    }

    /** Feed-forward {@code d -> ffn -> d} with tanh-GELU. x: {@code [N, d]}. */
    private Operand<TFloat32> mlp(Ops tf, Operand<TFloat32> x, Block b) {
        Operand<TFloat32> u = gelu(tf.withSubScope("gelu"), linear(tf.withSubScope("fc"), x, b.fcW,
                b.fcB)); // [N, ffn]
        return linear(tf.withSubScope("proj"), u, b.projW, b.projB); // [N, d]
    }

    /**
     * {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, computed as {@code x sigmoid(x (a + b x^2))} with
     * {@code a = 2 sqrt(2/pi)}, {@code b = 0.044715 a}: the same function ({@code (1 + tanh z) / 2 = sigmoid(2z)}) in
     * six ops instead of nine, so the forward pass keeps fewer {@code [N, ffn]} tensors for the backward pass, and
     * Sigmoid's gradient is one fused SigmoidGrad.
     */
    static Operand<TFloat32> gelu(Ops tf, Operand<TFloat32> x) {
        double a = 2 * Math.sqrt(2 / Math.PI);
        Operand<TFloat32> slope = tf.math.add(tf.math.mul(tf.math.square(x), tf.constant((float) (0.044715 * a))),
                tf.constant((float) a)); // [..] a + b x^2
        return tf.math.mul(x, tf.math.sigmoid(tf.math.mul(x, slope))); // [..]
    }

    /**
     * {@code x @ W + b}, x: {@code [N, in]}, W: {@code [in, out]}. The bias goes in through BiasAdd, not Add:
     * grappler's remapper fuses MatMul + BiasAdd into one kernel, and the bias's gradient is one BiasAddGrad instead
     * of a broadcast reduction.
     */
    private Operand<TFloat32> linear(Ops tf, Operand<TFloat32> x, Operand<TFloat32> w, Operand<TFloat32> b) {
        return tf.nn.biasAdd(matMul(tf, x, w, false), b); // [N, out]
    }

    /**
     * {@code x @ W} (or {@code x @ W^T}) in the model's precision: with {@code bf16}, of bfloat16 copies of both, the
     * product cast back to float32 (Cast's gradient casts the gradients back, so the weights and their gradients
     * stay float32).
     */
    private Operand<TFloat32> matMul(Ops tf, Operand<TFloat32> x, Operand<TFloat32> w, boolean transposeW) {
        if (config.precision() == ModelConfig.Precision.BF16) {
            Operand<TBfloat16> product = tf.linalg.matMul(tf.dtypes.cast(x, TBfloat16.class),
                    tf.dtypes.cast(w, TBfloat16.class), MatMul.transposeB(transposeW)); // [N, out]
            return tf.dtypes.cast(product, TFloat32.class); // [N, out]
        }
        return tf.linalg.matMul(x, w, MatMul.transposeB(transposeW)); // [N, out]
    }

    private Operand<TFloat32> norm(Ops tf, Operand<TFloat32> x, Operand<TFloat32> gain, Operand<TFloat32> bias) {
        return config.normType() == NormType.LAYERNORM
                ? Norms.layerNorm(tf, x, gain, bias, config.normEps())
                : Norms.rmsNorm(tf, x, gain, config.normEps());
    }

    /** The shape {@code [B, T, last]} from the {@code [B, T]} of the tokens. */
    private static Operand<TInt32> withLast(Ops tf, Operand<TInt32> batchTime, int last) {
        return tf.concat(List.of(batchTime, tf.constant(new int[] {last})), tf.constant(0)); // [3]
    }

    /** The first two dimensions of {@code x}. */
    private static Operand<TInt32> batchTime(Ops tf, Operand<TFloat32> x) {
        return tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {2})); // [2] = (B, T)
    }

    @Override
    public Operand<TFloat32> lmLogits(Ops outer, Operand<TFloat32> hidden) {
        Ops tf = scoped(outer).withSubScope("lm_head");
        Operand<TFloat32> h = tf.reshape(hidden, tf.constant(new int[] {-1, config.dModel()})); // [N, d]
        Operand<TFloat32> logits = lmHead != null
                ? matMul(tf, h, lmHead, false) // [N, V]
                : matMul(tf, h, tokEmb, true); // [N, V]
        return tf.reshape(logits, withLast(tf, batchTime(tf, hidden), config.vocabSize())); // [B, T, V]
    }

    @Override
    public Operand<TFloat32> scalar(Ops tf, Operand<TFloat32> hidden) {
        int d = config.dModel();
        Operand<TFloat32> h = tf.reshape(hidden, tf.constant(new int[] {-1, d})); // [N, d]
        Operand<TFloat32> s = tf.math.add(
                tf.linalg.matMul(h, tf.reshape(scoreW, tf.constant(new int[] {d, 1}))), // [N, 1]
                scoreB); // [N, 1]
        return tf.reshape(s, batchTime(tf, hidden)); // [B, T]
    }

    @Override
    public Operand<TFloat32> classify(Ops tf, Operand<TFloat32> hidden) {
        if (clsW == null) {
            throw new IllegalStateException("the model" + (prefix.isEmpty() ? "" : " \"" + prefix + "\"")
                    + " has no classification head (model.classes = 0): build it from a configuration with"
                    + " classes > 0, e.g. config.toBuilder().classes(3).build() for correct / neutral / incorrect");
        }
        int d = config.dModel();
        Operand<TFloat32> h = tf.reshape(hidden, tf.constant(new int[] {-1, d})); // [N, d]
        Operand<TFloat32> logits = linear(tf, h, clsW, clsB); // [N, C]
        return tf.reshape(logits, withLast(tf, batchTime(tf, hidden), config.classes())); // [B, T, C]
    }

    @Override
    public Operand<TFloat32> classifyLikelihood(Ops tf, Operand<TFloat32> features) {
        if (clsLik == null) {
            return Transformer.super.classifyLikelihood(tf, features);
        }
        Operand<TFloat32> f = tf.reshape(features, tf.constant(new int[] {-1, 2})); // [N, 2]
        Operand<TFloat32> out = tf.linalg.matMul(f, clsLik); // [N, C]
        return tf.reshape(out, withLast(tf, batchTime(tf, features), config.classes())); // [B, S, C]
    }

    @Override
    public Operand<TFloat32> scalarLikelihood(Ops tf, Operand<TFloat32> features) {
        if (scoreLik == null) {
            return Transformer.super.scalarLikelihood(tf, features);
        }
        return tf.reduceSum(tf.math.mul(features, scoreLik), tf.constant(-1)); // [...]
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    @Override
    public void initialize(Session session, long seed) {
        for (Slot s : slots) {
            float[] values = Initializer.values(seed, s.localName, s.init, (int) s.parameter.shape().size(),
                    config.initStd(), config.layers());
            set(session, s, values);
        }
    }

    @Override
    public Map<String, TensorData> read(Session session) {
        Session.Runner runner = session.runner();
        for (Slot s : slots) {
            runner.fetch(s.parameter.variable());
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        try (Result r = runner.run()) {
            for (int i = 0; i < slots.size(); i++) {
                Parameter p = slots.get(i).parameter;
                TFloat32 t = (TFloat32) r.get(i);
                float[] values = new float[(int) p.shape().size()];
                t.copyTo(DataBuffers.of(values, false, false));
                out.put(p.name(), new TensorData(p.shape().asArray(), values));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public void assign(Session session, Map<String, TensorData> values, boolean allowUnknown) {
        List<String> problems = new ArrayList<>();
        for (Slot s : slots) {
            TensorData v = values.get(s.parameter.name());
            if (v == null) {
                problems.add("no value for parameter \"" + s.parameter.name() + "\" " + s.parameter.shape());
            } else if (!Arrays.equals(v.shape(), s.parameter.shape().asArray())) {
                problems.add("parameter \"" + s.parameter.name() + "\": the model's shape is "
                        + Arrays.toString(s.parameter.shape().asArray()) + ", the value's is "
                        + Arrays.toString(v.shape()));
            }
        }
        if (!allowUnknown) {
            TreeSet<String> unknown = new TreeSet<>(values.keySet());
            unknown.removeAll(byName.keySet());
            for (String name : unknown) {
                problems.add("\"" + name + "\" is not a parameter of this model");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot assign the model" + (prefix.isEmpty() ? "" : " \"" + prefix
                    + "\"") + " (" + config + "): " + String.join("; ", problems)
                    + (allowUnknown ? "" : ". Names must match parameters() including the prefix; pass"
                            + " allowUnknown=true to skip names the model does not have"));
        }
        for (Slot s : slots) {
            set(session, s, values.get(s.parameter.name()).values());
        }
    }

    private static void set(Session session, Slot s, float[] values) {
        try (TFloat32 t = TFloat32.tensorOf(s.parameter.shape(), DataBuffers.of(values, true, false))) {
            session.runner().feed(s.value, t).addTarget(s.assign).run().close();
        }
    }

    @Override
    public String toString() {
        return "DecoderTransformer" + (prefix.isEmpty() ? "" : "[" + prefix + "]") + config;
    }
}
