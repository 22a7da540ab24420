package org.align4j.api.model;

import java.util.Objects;

import org.align4j.api.pipeline.Settings;

/**
 * The shape of a decoder-only Transformer. Saved next to the weights as {@code config.json}; the keys below are the
 * pipeline file's {@code model:} keys and the JSON keys alike.
 *
 * <pre>
 * vocab_size   from the tokenizer      layers   4       d_model   256     heads  4
 * kv_heads     heads
 * ffn          4 * d_model             context  128     norm      pre | post
 * norm_type    layernorm | rmsnorm     positions learned | sinusoidal | rope | alibi    rope_base 10000
 * window       0 (none)
 * tie_embeddings true                  attention mha     norm_eps  1e-5    init_std 0.02
 * classes      0                       score_likelihood false   likelihood_reference false
 * step_credit  false                   precision fp32
 * </pre>
 * {@code norm: pre} is GPT's {@code x + F(LNorm(x))} with a final norm before the head; {@code norm: post} is BERT's
 * {@code LNorm(F(x) + x)}.
 *
 * <p>{@code kv_heads} is the number of key/value heads (grouped-query attention; 1 is multi-query attention): it must
 * divide {@code heads}, query head {@code h} reads key/value head {@code h / (heads / kv_heads)}, the key and value
 * projections are {@code [d_model, kv_heads * head_size]} and a KV cache holds {@code kv_heads} heads. The default,
 * {@code heads}, is multi-head attention; {@code config.json} holds it only when it differs (a file without it reads
 * as {@code heads}, so model folders written before the key existed load as they were).
 *
 * <p>{@code positions}: {@code learned} and {@code sinusoidal} add a position vector to the token embedding;
 * {@code rope} rotates each head's queries and keys by their position (rotary embeddings, the rotate-half pairing:
 * dimension {@code e} of the first half with {@code e + D/2}, angle {@code position * rope_base^(-2e/D)}; the head
 * size must be even); {@code alibi} adds no vector and biases each head's logits by {@code -slope * distance}
 * ({@link #alibiSlopes}). {@code rope_base} (default 10000) is read with {@code rope} only. {@code window} (0, the
 * default: none) is sliding-window attention: each token attends to the {@code window} tokens ending at itself.
 * {@code config.json} holds {@code rope_base} only with {@code rope} and {@code window} only when above 0.
 *
 * <p>{@code classes} is the number of logits of the classification head ({@link Transformer#classify}), e.g. 3 for a
 * process reward model's correct / neutral / incorrect; 0 (the default) means no such head. It is set by the stage
 * that trains the head ({@code toBuilder().classes(3)}), not in the pipeline file's {@code model:} section, and
 * {@code config.json} holds it only when it is above 0 (a file without it reads as 0).
 *
 * <p>{@code score_likelihood} says how a reward model of this shape scores a completion: false (the default), by the
 * scalar head at the completion's last token; true, by that plus the model's own mean log-probability of the
 * completion's tokens ({@link Transformer#tokenLogProbs}, the LM head of the same weights). It is set by the reward
 * stage that trains such a model ({@code likelihood: true}) and read by whatever scores with the saved model;
 * {@code config.json} holds it only when true (a file without it reads as false).
 *
 * <p>{@code likelihood_reference} (only with {@code score_likelihood}) says whose likelihood that is: false, the
 * reward model's own; true, that of a <b>frozen copy of the model the reward model started from</b> (its SFT model),
 * saved beside the reward model in the folder {@code reference/}. Training moves the reward model's own
 * probabilities; the frozen copy keeps those of the policy whose answers are judged, where a slip in a step is an
 * unlikely token. The features are then the lowest and the mean token <em>probability</em>
 * ({@link Transformer#stepProbFeatures}), weighted from the prior that a likely text is a good one: per step and
 * class for a process model, which marks the end of each step with the newline that ends its line (the text the
 * reference was trained on) instead of {@code <|step|>}; over the completion for an outcome model
 * ({@code score_head.likelihood}). Set by the reward stage ({@code likelihood: reference}); {@code config.json}
 * holds it only when true.
 *
 * <p>{@code step_credit} (only with {@code classes > 0}) makes a model with a classification head an <b>outcome</b>
 * reward model scored by its steps: the head gives each step (each line of the completion, ended as a process model
 * ends it) a correctness logit {@code z} ({@code logit[0]} with one class, else {@code logit[0] - logit[C-1]}), and
 * the score of the completion is its expected partial credit, the number of steps right before the first wrong one,
 * {@code sum_s prod_{s' <= s} sigmoid(z_s')}; with a likelihood reference its head reads the features as log-odds
 * ({@link Transformer#stepLogOddsFeatures}). Set by the reward stage ({@code score: step-credit});
 * {@code config.json} holds it only when true.
 *
 * <p>{@code precision} is how the model multiplies its matrices: {@code fp32} (the default) in float32 throughout;
 * {@code bf16}, mixed precision: every dense projection (q, k, v, o, the feed-forward and the LM head) multiplies
 * bfloat16 copies of its input and weight and returns float32, while the weights themselves (the master copy the
 * optimizer updates), the biases, norms, softmax, attention and the loss stay float32. bfloat16 has float32's
 * exponent range, so gradients need no loss scaling. It pays on CPUs whose matrix units take bfloat16
 * (AVX512-BF16, AMX) when TensorFlow's kernels use them; {@code bench/run --bf16} measures it. {@code config.json}
 * holds it only when {@code bf16}.
 */
public final class ModelConfig {
    /** Where each block normalises. */
    public enum NormPlacement { PRE, POST }

    /** Which normalisation. */
    public enum NormType { LAYERNORM, RMSNORM }

    /** How positions enter the model. */
    public enum Positions { LEARNED, SINUSOIDAL, ROPE, ALIBI }

    /** How the dense projections multiply: float32, or bfloat16 copies with float32 results and weights. */
    public enum Precision { FP32, BF16 }

    private final int vocabSize;
    private final int layers;
    private final int dModel;
    private final int heads;
    private final int kvHeads;
    private final int ffn;
    private final int context;
    private final NormPlacement norm;
    private final NormType normType;
    private final Positions positions;
    private final float ropeBase;
    private final int window;
    private final boolean tieEmbeddings;
    private final String attention;
    private final float normEps;
    private final float initStd;
    private final int classes;
    private final boolean scoreLikelihood;
    private final boolean likelihoodReference;
    private final boolean stepCredit;
    private final Precision precision;

    private ModelConfig(Builder b) {
        this.vocabSize = b.vocabSize;
        this.layers = b.layers;
        this.dModel = b.dModel;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads > 0 ? b.kvHeads : b.heads;
        this.ffn = b.ffn > 0 ? b.ffn : 4 * b.dModel;
        this.context = b.context;
        this.norm = b.norm;
        this.normType = b.normType;
        this.positions = b.positions;
        this.ropeBase = b.ropeBase;
        this.window = b.window;
        this.tieEmbeddings = b.tieEmbeddings;
        this.attention = b.attention;
        this.normEps = b.normEps;
        this.initStd = b.initStd;
        this.classes = b.classes;
        this.scoreLikelihood = b.scoreLikelihood;
        this.likelihoodReference = b.likelihoodReference;
        this.stepCredit = b.stepCredit;
        this.precision = java.util.Objects.requireNonNull(b.precision, "precision");
        check(classes > 0 || !stepCredit, "step_credit", "needs classes > 0 (the head that scores each step)");
        check(scoreLikelihood || !likelihoodReference, "likelihood_reference",
                "needs score_likelihood (the reference's likelihood is what the score adds)");
        check(vocabSize > 0, "vocab_size", "must be > 0, got " + vocabSize);
        check(layers > 0, "layers", "must be > 0, got " + layers);
        check(dModel > 0, "d_model", "must be > 0, got " + dModel);
        check(heads > 0 && dModel % heads == 0, "heads",
                "must divide d_model (" + dModel + "), got " + heads);
        check(b.kvHeads >= 0 && kvHeads <= heads && heads % kvHeads == 0, "kv_heads",
                "must divide heads (" + heads + "): each key/value head serves heads / kv_heads query heads, got "
                        + b.kvHeads);
        check(context > 0, "context", "must be > 0, got " + context);
        check(window >= 0, "window", "must be 0 (none) or a number of tokens >= 1, got " + window);
        check(ropeBase > 1, "rope_base", "must be > 1, got " + ropeBase);
        check(positions != Positions.ROPE || dModel % heads != 0 || (dModel / heads) % 2 == 0, "positions",
                "rope pairs the dimensions of a head: the head size (d_model / heads = " + (dModel / Math.max(1, heads))
                        + ") must be even");
        check(normEps > 0, "norm_eps", "must be > 0");
        check(initStd > 0, "init_std", "must be > 0");
        check(classes >= 0, "classes", "must be >= 0 (0: no classification head), got " + classes);
        Objects.requireNonNull(attention, "attention");
    }

    private static void check(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("model." + key + ": " + problem);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the {@code model:} section of a pipeline file; {@code vocabSize} comes from the tokenizer when the section
     * does not set it.
     */
    public static ModelConfig from(Settings s, int vocabSize) {
        s.checkKnown("vocab_size", "layers", "d_model", "heads", "kv_heads", "ffn", "context", "norm", "norm_type",
                "positions", "rope_base", "window", "tie_embeddings", "attention", "norm_eps", "init_std",
                "precision");
        Builder b = builder()
                .vocabSize(s.getInt("vocab_size", vocabSize))
                .layers(s.getInt("layers", 4, 1, 1024))
                .dModel(s.getInt("d_model", 256, 1, 1 << 16))
                .heads(s.getInt("heads", 4, 1, 1024))
                .kvHeads(s.has("kv_heads") ? s.getInt("kv_heads", 0, 1, 1024) : 0)
                .ffn(s.getInt("ffn", 0, 0, 1 << 20))
                .context(s.getInt("context", 128, 1, 1 << 20))
                .norm(parse(s, "norm", NormPlacement.class, NormPlacement.PRE))
                .normType(parse(s, "norm_type", NormType.class, NormType.LAYERNORM))
                .positions(parse(s, "positions", Positions.class, Positions.LEARNED))
                .ropeBase((float) s.getDouble("rope_base", 10000, 1.0001, 1e12))
                .window(s.getInt("window", 0, 0, 1 << 24))
                .tieEmbeddings(s.getBoolean("tie_embeddings", true))
                .attention(s.getString("attention", "mha"))
                .normEps((float) s.getDouble("norm_eps", 1e-5, 1e-12, 1))
                .initStd((float) s.getDouble("init_std", 0.02, 1e-6, 10))
                .precision(parse(s, "precision", Precision.class, Precision.FP32));
        ModelConfig c;
        try {
            c = b.build();
        } catch (IllegalArgumentException e) {
            throw s.error(null, e.getMessage());
        }
        if (s.has("rope_base") && c.positions() != Positions.ROPE) {
            throw s.error("rope_base", "is read only with positions: rope (positions here: "
                    + c.positions().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        return c;
    }

    private static <E extends Enum<E>> E parse(Settings s, String key, Class<E> type, E def) {
        if (!s.has(key)) {
            return def;
        }
        String v = s.getString(key).trim().toUpperCase().replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(v)) {
                return e;
            }
        }
        StringBuilder ok = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            ok.append(ok.length() == 0 ? "" : ", ").append(e.name().toLowerCase());
        }
        throw s.error(key, "expected one of " + ok + ", got \"" + s.getString(key) + "\"");
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int layers() {
        return layers;
    }

    public int dModel() {
        return dModel;
    }

    public int heads() {
        return heads;
    }

    public int headSize() {
        return dModel / heads;
    }

    /**
     * Key/value heads: {@link #heads()} unless the model shares them between query heads (grouped-query attention).
     *
     * @since 1.4
     */
    public int kvHeads() {
        return kvHeads;
    }

    public int ffn() {
        return ffn;
    }

    public int context() {
        return context;
    }

    public NormPlacement norm() {
        return norm;
    }

    public NormType normType() {
        return normType;
    }

    public Positions positions() {
        return positions;
    }

    /**
     * The base of rotary embeddings' angles ({@code positions: rope}).
     *
     * @since 1.4
     */
    public float ropeBase() {
        return ropeBase;
    }

    /**
     * Sliding-window attention: the number of tokens each token attends to, itself included; 0 for all before it.
     *
     * @since 1.4
     */
    public int window() {
        return window;
    }

    /**
     * ALiBi's slope for each of {@link #heads()} heads (Press et al.): for {@code n} heads, a power of two,
     * {@code 2^(-8 (h + 1) / n)} for {@code h = 0 .. n-1}; otherwise those of the largest power of two {@code m < n}
     * followed by every other slope of {@code 2m} heads ({@code 2^(-8 (2j + 1) / 2m)}, {@code j = 0 ..}) until there
     * are {@code n}.
     *
     * @since 1.4
     */
    public float[] alibiSlopes() {
        int m = Integer.highestOneBit(heads);
        float[] slopes = new float[heads];
        for (int h = 0; h < m; h++) {
            slopes[h] = (float) Math.pow(2, -8.0 * (h + 1) / m);
        }
        for (int j = 0; m + j < heads; j++) {
            slopes[m + j] = (float) Math.pow(2, -8.0 * (2 * j + 1) / (2 * m));
        }
        return slopes;
    }

    public boolean tieEmbeddings() {
        return tieEmbeddings;
    }

    /** The {@code align4j.name} of the attention kernel the blocks use. */
    public String attention() {
        return attention;
    }

    public float normEps() {
        return normEps;
    }

    public float initStd() {
        return initStd;
    }

    /**
     * The number of logits of the classification head, {@code C} in {@link Transformer#classify}; 0 when the model
     * has none.
     *
     * @since 1.1
     */
    public int classes() {
        return classes;
    }

    /**
     * Whether a reward model's score adds the model's mean log-probability of the completion's tokens to its scalar
     * head (see the class comment).
     *
     * @since 1.2
     */
    public boolean scoreLikelihood() {
        return scoreLikelihood;
    }

    /**
     * Whether that likelihood is a frozen reference's, saved in the folder {@code reference/} beside the model (see
     * the class comment).
     *
     * @since 1.3
     */
    public boolean likelihoodReference() {
        return likelihoodReference;
    }

    /**
     * Whether the model's outcome score is its steps' expected partial credit (see the class comment).
     *
     * @since 1.3
     */
    public boolean stepCredit() {
        return stepCredit;
    }

    /**
     * How the dense projections multiply (see the class comment).
     *
     * @since 1.5
     */
    public Precision precision() {
        return precision;
    }

    /**
     * Trainable parameters of the language model: embeddings, blocks, the final norm (pre-norm only) and the LM head
     * when untied, plus the classification head ({@code d * classes + classes}, and {@code 2 * classes} likelihood
     * weights with {@code score_likelihood}) when {@code classes > 0}; the scalar
     * head of reward and value models (and its likelihood weights) excluded.
     */
    public long parameterCount() {
        long d = dModel;
        long normSize = normType == NormType.LAYERNORM ? 2 * d : d; // gain (+ bias)
        long kv = (long) kvHeads * headSize(); // width of the key and value projections
        long perBlock = 2 * d * d + 2 * d + 2 * d * kv + 2 * kv // attention q, o [d, d] and k, v [d, kv], with biases
                + 2 * d * ffn + ffn + d // feed-forward
                + 2 * normSize; // two norms
        long n = (long) vocabSize * d + layers * perBlock;
        if (this.norm == NormPlacement.PRE) {
            n += normSize; // final norm
        }
        if (positions == Positions.LEARNED) {
            n += (long) context * d;
        }
        if (!tieEmbeddings) {
            n += (long) vocabSize * d;
        }
        n += d * classes + classes; // classification head: weight [d, C], bias [C]
        if (scoreLikelihood) {
            n += 2L * classes; // its likelihood weights [2, C] (none without the head)
        }
        return n;
    }

    public Builder toBuilder() {
        return builder().vocabSize(vocabSize).layers(layers).dModel(dModel).heads(heads).kvHeads(kvHeads).ffn(ffn)
                .context(context).norm(norm).normType(normType).positions(positions).ropeBase(ropeBase).window(window)
                .tieEmbeddings(tieEmbeddings).attention(attention)
                .normEps(normEps).initStd(initStd).classes(classes).scoreLikelihood(scoreLikelihood)
                .likelihoodReference(likelihoodReference).stepCredit(stepCredit).precision(precision);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig && toString().equals(o.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "ModelConfig{vocab_size=" + vocabSize + ", layers=" + layers + ", d_model=" + dModel + ", heads="
                + heads + (kvHeads != heads ? ", kv_heads=" + kvHeads : "") + ", ffn=" + ffn + ", context=" + context
                + ", norm=" + norm + ", norm_type=" + normType + ", positions=" + positions
                + (positions == Positions.ROPE ? ", rope_base=" + ropeBase : "")
                + (window > 0 ? ", window=" + window : "") + ", tie_embeddings=" + tieEmbeddings + ", attention="
                + attention
                + ", norm_eps=" + normEps + ", init_std=" + initStd + (classes > 0 ? ", classes=" + classes : "")
                + (scoreLikelihood ? ", score_likelihood=true" : "")
                + (likelihoodReference ? ", likelihood_reference=true" : "")
                + (stepCredit ? ", step_credit=true" : "")
                + (precision != Precision.FP32 ? ", precision=" + precision : "") + "}";
    }

    /** Builds a {@link ModelConfig}; unset values take the defaults in the class comment. */
    public static final class Builder {
        private int vocabSize;
        private int layers = 4;
        private int dModel = 256;
        private int heads = 4;
        private int kvHeads;
        private float ropeBase = 10000f;
        private int window;
        private int ffn;
        private int context = 128;
        private NormPlacement norm = NormPlacement.PRE;
        private NormType normType = NormType.LAYERNORM;
        private Positions positions = Positions.LEARNED;
        private boolean tieEmbeddings = true;
        private String attention = "mha";
        private float normEps = 1e-5f;
        private float initStd = 0.02f;
        private int classes;
        private boolean scoreLikelihood;
        private boolean likelihoodReference;
        private boolean stepCredit;
        private Precision precision = Precision.FP32;

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder layers(int v) {
            layers = v;
            return this;
        }

        public Builder dModel(int v) {
            dModel = v;
            return this;
        }

        public Builder heads(int v) {
            heads = v;
            return this;
        }

        /**
         * Key/value heads (grouped-query attention); 0 for as many as {@code heads}.
         *
         * @since 1.4
         */
        public Builder kvHeads(int v) {
            kvHeads = v;
            return this;
        }

        /** Hidden size of the feed-forward; 0 for {@code 4 * d_model}. */
        public Builder ffn(int v) {
            ffn = v;
            return this;
        }

        public Builder context(int v) {
            context = v;
            return this;
        }

        public Builder norm(NormPlacement v) {
            norm = v;
            return this;
        }

        public Builder normType(NormType v) {
            normType = v;
            return this;
        }

        /**
         * The base of rotary embeddings' angles; 10000 by default.
         *
         * @since 1.4
         */
        public Builder ropeBase(float v) {
            ropeBase = v;
            return this;
        }

        /**
         * Sliding-window attention over {@code v} tokens; 0 (the default) for none.
         *
         * @since 1.4
         */
        public Builder window(int v) {
            window = v;
            return this;
        }

        public Builder positions(Positions v) {
            positions = v;
            return this;
        }

        public Builder tieEmbeddings(boolean v) {
            tieEmbeddings = v;
            return this;
        }

        public Builder attention(String v) {
            attention = v;
            return this;
        }

        public Builder normEps(float v) {
            normEps = v;
            return this;
        }

        public Builder initStd(float v) {
            initStd = v;
            return this;
        }

        /**
         * Logits of the classification head; 0 (the default) for none.
         *
         * @since 1.1
         */
        public Builder classes(int v) {
            classes = v;
            return this;
        }

        /** @since 1.2 */
        public Builder scoreLikelihood(boolean v) {
            scoreLikelihood = v;
            return this;
        }

        /** @since 1.3 */
        public Builder likelihoodReference(boolean v) {
            likelihoodReference = v;
            return this;
        }

        /** @since 1.3 */
        public Builder stepCredit(boolean v) {
            stepCredit = v;
            return this;
        }

        /** @since 1.5 */
        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(this);
        }
    }
}
