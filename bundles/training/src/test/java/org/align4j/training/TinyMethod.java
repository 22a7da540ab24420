package org.align4j.training;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.loss.lm.CausalLanguageModelLoss;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small training method for the loop's tests: next-token prediction on 12 fixed random sequences of a tiny model,
 * with an objective the test chooses. It records what the loop does with it: how often it was built, the state it
 * was restored with, and every model's weights before its first step and after its last.
 */
final class TinyMethod implements TrainingMethod {
    static final ModelConfig CONFIG = ModelConfig.builder().vocabSize(20).layers(1).dModel(16).heads(2).ffn(32)
            .context(8).initStd(0.2f).build();
    static final StandardAttention KERNEL = new StandardAttention();
    static final int BATCH = 4;
    static final int[][] TRAIN = sequences(12, 5);
    static final int[][] HELD_OUT = sequences(4, 6);

    /** Builds the objective from the method's inputs and the models. */
    interface Build {
        Objective objective(TinyMethod m, Ops tf, StageRun.Models models);
    }

    /** Minimise the policy's next-token loss (times {@link #scale}). */
    static final Build LM = (m, tf, models) -> Objective.minimize(m.scaled(tf, m.lmLoss(tf, models.get("policy"))));

    private final List<ModelSpec> specs;
    private final Build build;
    private final EpochOrder order;

    Placeholder<TInt32> tokens; // [B, T]
    Placeholder<TInt32> targets; // [B, T]
    Placeholder<TFloat32> mask; // [B, T]
    Placeholder<TFloat32> scale; // []
    Operand<TFloat32> reported; // []

    /** Step (0-based) whose loss is multiplied by NaN; -1 for none. */
    long nanAtStep = -1;
    int builds;
    /** Batches served, counted across a resume (the method's state). */
    int served;
    /** Calls of {@link #batch} in this run. */
    int batchCalls;
    Map<String, String> restored;
    final List<String> evaluations = new java.util.ArrayList<>();
    Map<String, Map<String, TensorData>> atStart;
    Map<String, Map<String, TensorData>> atFinish;

    TinyMethod(List<ModelSpec> specs, Build build, long seed) {
        this.specs = specs;
        this.build = build;
        this.order = new EpochOrder(TRAIN.length, seed);
    }

    /** The policy alone, trained on the language-model loss. */
    static TinyMethod policy(long seed) {
        return new TinyMethod(List.of(ModelSpec.trained("policy", CONFIG, KERNEL)), LM, seed);
    }

    static int[][] sequences(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] out = new int[count][];
        for (int i = 0; i < count; i++) {
            out[i] = r.ints(CONFIG.context() + 1, 0, CONFIG.vocabSize()).toArray();
        }
        return out;
    }

    /** The mean next-token loss of {@code model} on the fed batch, {@code []}. */
    Operand<TFloat32> lmLoss(Ops tf, Transformer model) {
        Operand<TFloat32> hidden = model.hidden(tf, tokens, null); // [B, T, d]
        Operand<TFloat32> logits = model.lmLogits(tf, hidden); // [B, T, V]
        return new CausalLanguageModelLoss().compute(tf, logits, targets, mask).loss(); // []
    }

    Operand<TFloat32> scaled(Ops tf, Operand<TFloat32> loss) {
        return tf.math.mul(loss, scale); // []
    }

    @Override
    public String name() {
        return "tiny";
    }

    @Override
    public List<ModelSpec> models() {
        return specs;
    }

    @Override
    public Objective build(Ops tf, StageRun.Models models) {
        builds++;
        tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, CONFIG.context())));
        targets = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, CONFIG.context())));
        mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, CONFIG.context())));
        scale = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
        Objective o = build.objective(this, tf, models);
        reported = o.loss();
        return o;
    }

    @Override
    public Feeds batch(long step) {
        served++;
        batchCalls++;
        int[] idx = order.batch(step, BATCH);
        int[][] rows = new int[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            rows[i] = TRAIN[idx[i]];
        }
        return feeds(rows, step == nanAtStep ? Float.NaN : 1f);
    }

    private Feeds feeds(int[][] rows, float scaleValue) {
        int t = CONFIG.context();
        int[] in = new int[rows.length * t];
        int[] out = new int[rows.length * t];
        float[] m = new float[rows.length * t];
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < t; j++) {
                in[r * t + j] = rows[r][j];
                out[r * t + j] = rows[r][j + 1];
                m[r * t + j] = 1f;
            }
        }
        return new Feeds().ints(tokens, rows.length, in).ints(targets, rows.length, out).floats(mask, rows.length, m)
                .scalar(scale, scaleValue);
    }

    @Override
    public long tokensPerStep() {
        return (long) BATCH * CONFIG.context();
    }

    @Override
    public double epoch(long step) {
        return order.epoch(step, BATCH);
    }

    @Override
    public void beforeStep(StageRun run, long step) {
        if (atStart == null) {
            atStart = weights(run);
        }
    }

    /** The reported loss on the held-out sequences; records when it was asked for. */
    @Override
    public Map<String, Double> evaluate(StageRun run, long step, boolean last) {
        evaluations.add(step + (last ? " last" : ""));
        try (Feeds f = feeds(HELD_OUT, 1f); Result r = f.feed(run.session().runner()).fetch(reported).run()) {
            return Map.of(MetricNames.EVAL_LOSS, (double) ((TFloat32) r.get(0)).getFloat());
        }
    }

    @Override
    public Map<String, String> state() {
        return Map.of("served", Integer.toString(served), "note", "served " + served + " batches");
    }

    @Override
    public void restore(Map<String, String> state) {
        restored = new LinkedHashMap<>(state);
        served = Integer.parseInt(state.get("served"));
    }

    @Override
    public List<String> finish(StageRun run) {
        atFinish = weights(run);
        return List.of();
    }

    private static Map<String, Map<String, TensorData>> weights(StageRun run) {
        Map<String, Map<String, TensorData>> out = new LinkedHashMap<>();
        run.models().all().forEach((name, model) -> out.put(name, model.read(run.session())));
        return out;
    }
}
