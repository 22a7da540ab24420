package org.align4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.Completion.FinishReason;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.CachedForward;
import org.align4j.api.model.KeyValueCache;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A model in a graph of its own with three forward passes sharing its variables:
 * <ul>
 * <li><b>cached</b>: new tokens after fed-back keys and values ({@link Transformer#hiddenCached}), the next-token
 * logits of each row's last slot;</li>
 * <li><b>uncached</b>: the whole left-padded sequence with per-row positions, the same logits (the readable path,
 * {@code GenerationSettings.cache(false)});</li>
 * <li><b>scoring</b>: the right-padded prompt + completion through the training forward, and the log-probability of
 * each next token ({@link TokenLogProbs}).</li>
 * </ul>
 * Batches of prompts of different lengths are left-padded: row {@code r}'s prompt ends at slot {@code Lmax - 1}, its
 * padding slots are masked out, and its tokens sit at positions {@code 0, 1, ...} of its own. Every generated token
 * takes one more slot in every row; a finished row's slots are padding.
 */
final class GenerationSessionImpl implements GenerationSession {

    private final ModelConfig config;
    private final List<String> warnings;
    private final Graph graph;
    private final Session session;
    private final Transformer model;
    private final Placeholder<TInt32> tokens;
    private final Placeholder<TInt32> positions;
    private final Placeholder<TFloat32> mask;
    private final List<Placeholder<TFloat32>> pastKeys = new ArrayList<>();
    private final List<Placeholder<TFloat32>> pastValues = new ArrayList<>();
    private final CachedForward cached;
    private final Operand<TFloat32> cachedNext; // [B, V]
    private final Operand<TFloat32> uncachedNext; // [B, V]
    /** The kernel takes no padding mask: rows are generated one at a time, unpadded. */
    private final boolean wholeSequencesOnly;
    private final Placeholder<TInt32> targets;
    private final Operand<TFloat32> scored; // [B, T]
    private boolean closed;

    GenerationSessionImpl(TransformerFactory models, TensorFlowRuntime runtime, ModelConfig config,
            AttentionKernel attention, Map<String, TensorData> weights, List<String> warnings) {
        this.config = config;
        List<String> notes = new ArrayList<>(warnings);
        Map<String, TensorData> named = withoutPrefix(weights); // fail before building anything
        graph = new Graph();
        try {
            Ops tf = runtime == null ? Ops.create(graph) : runtime.ops(graph);
            model = models.create(tf, "", config, attention);
            tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            positions = tf.withName("positions").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            mask = tf.withName("key_mask").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            Shape kv = Shape.of(-1, model.keyValueHeads(), -1, config.headSize());
            for (int i = 0; i < config.layers(); i++) {
                pastKeys.add(tf.withName("past_key_" + i).placeholder(TFloat32.class, Placeholder.shape(kv)));
                pastValues.add(tf.withName("past_value_" + i).placeholder(TFloat32.class, Placeholder.shape(kv)));
            }
            // a kernel that attends over whole sequences only refuses a cache offset and a padding mask
            // (UnsupportedOperationException): then generation recomputes the prefix, one row at a time
            CachedForward c = null;
            Operand<TFloat32> next;
            try {
                c = model.hiddenCached(tf, tokens, positions, mask,
                        new KeyValueCache(new ArrayList<>(pastKeys), new ArrayList<>(pastValues)));
            } catch (UnsupportedOperationException e) {
                notes.add("attention kernel \"" + config.attention() + "\" has no KV-cache support ("
                        + e.getMessage() + "): generation recomputes the prefix for every token");
            }
            boolean whole = false;
            try {
                next = lastSlotLogits(tf, model.hidden(tf, tokens, positions, mask)); // [B, V]
            } catch (UnsupportedOperationException e) {
                whole = true; // no padding mask: one unpadded row per run
                next = lastSlotLogits(tf, model.hidden(tf, tokens, null)); // [1, V]
                notes.add("attention kernel \"" + config.attention() + "\" takes no padding mask: prompts are"
                        + " generated one at a time");
            }
            cached = c;
            cachedNext = c == null ? null : lastSlotLogits(tf, c.hidden()); // [B, V]
            uncachedNext = next;
            wholeSequencesOnly = whole;
            targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> h; // [B, T, d]
            try {
                h = model.hidden(tf, tokens, mask);
            } catch (UnsupportedOperationException e) {
                h = model.hidden(tf, tokens, null); // right padding under a causal mask: no real token sees it
            }
            Operand<TFloat32> logits = model.lmLogits(tf, h); // [B, T, V]
            scored = TokenLogProbs.compute(tf, logits, targets); // [B, T]
            session = runtime == null ? new Session(graph) : runtime.openSession(graph);
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
        this.warnings = List.copyOf(notes);
        try {
            model.assign(session, named, false);
        } catch (RuntimeException e) {
            session.close();
            graph.close();
            throw e;
        }
    }

    /** The logits of the last slot of each row: {@code hidden [B, T, d]} to {@code [B, V]}. */
    private Operand<TFloat32> lastSlotLogits(Ops tf, Operand<TFloat32> hidden) {
        Operand<TInt32> t = tf.gather(tf.shape(hidden), tf.constant(1), tf.constant(0)); // [] T
        Operand<TFloat32> last = tf.gather(hidden, tf.math.sub(t, tf.constant(1)), tf.constant(1)); // [B, d]
        Operand<TFloat32> logits = model.lmLogits(tf, tf.expandDims(last, tf.constant(1))); // [B, 1, V]
        return tf.reshape(logits, tf.constant(new int[] {-1, config.vocabSize()})); // [B, V]
    }

    /** The names without the one prefix they share (the model in this graph has none). */
    static Map<String, TensorData> withoutPrefix(Map<String, TensorData> weights) {
        String anchor = "tok_emb.weight";
        String prefix = null;
        for (String name : weights.keySet()) {
            if (name.equals(anchor) || name.endsWith("." + anchor)) {
                prefix = name.substring(0, name.length() - anchor.length());
                break;
            }
        }
        if (prefix == null) {
            throw new IllegalArgumentException("the weights hold no \"tok_emb.weight\" under any prefix: not an"
                    + " align4j model's weights (names: " + abbreviated(new TreeSet<>(weights.keySet())) + ")");
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        List<String> foreign = new ArrayList<>();
        for (Map.Entry<String, TensorData> e : weights.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                out.put(e.getKey().substring(prefix.length()), e.getValue());
            } else {
                foreign.add(e.getKey());
            }
        }
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("the weights mix prefixes: \"" + prefix + "tok_emb.weight\" but also "
                    + abbreviated(foreign) + "; pass one model's weights");
        }
        return out;
    }

    private static String abbreviated(java.util.Collection<String> names) {
        List<String> l = new ArrayList<>(names);
        return l.size() <= 6 ? String.join(", ", l) : String.join(", ", l.subList(0, 6)) + ", ... (" + l.size()
                + " in all)";
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public synchronized void update(Map<String, TensorData> weights) {
        open();
        model.assign(session, withoutPrefix(weights), false);
    }

    /** One row of a batch: a prompt's sample. */
    static final class Row {
        final int prompt;
        final int[] ids;
        final SplittableRandom random;
        final int limit; // the most new tokens: max_new_tokens, or fewer to stay inside the context
        final int[] seen;
        final boolean[] isSeen;
        int seenCount;
        int[] out;
        float[] logProbs;
        int n;
        FinishReason finish;

        Row(int prompt, int sample, int[] ids, GenerationSettings s, int context, int vocab) {
            this.prompt = prompt;
            this.ids = ids;
            this.random = Sampling.random(s.seed(), prompt, sample);
            this.limit = Math.min(s.maxNewTokens(), context - ids.length);
            this.out = new int[limit];
            this.logProbs = new float[limit];
            this.isSeen = new boolean[vocab];
            this.seen = new int[vocab];
            for (int id : ids) {
                see(id);
            }
        }

        void see(int id) {
            if (!isSeen[id]) {
                isSeen[id] = true;
                seen[seenCount++] = id;
            }
        }

        boolean active() {
            return finish == null;
        }

        Completion completion() {
            return new Completion(Arrays.copyOf(out, n), Arrays.copyOf(logProbs, n), finish);
        }
    }

    @Override
    public synchronized List<List<Completion>> generate(List<int[]> prompts, GenerationSettings settings) {
        open();
        for (int i = 0; i < prompts.size(); i++) {
            check("prompt " + i, prompts.get(i), 1, config.context() - 1);
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            for (int j = 0; j < settings.samples(); j++) {
                rows.add(new Row(i, j, prompts.get(i), settings, config.context(), config.vocabSize()));
            }
        }
        for (int from = 0; from < rows.size(); from += settings.maxBatch()) {
            run(rows.subList(from, Math.min(rows.size(), from + settings.maxBatch())), settings);
        }
        List<List<Completion>> result = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            result.add(new ArrayList<>());
        }
        for (Row r : rows) {
            result.get(r.prompt).add(r.completion());
        }
        return result;
    }

    private void check(String what, int[] ids, int min, int max) {
        if (ids == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (ids.length < min) {
            throw new IllegalArgumentException(what + " is empty: give at least one token (the CLI starts every"
                    + " prompt with the tokenizer's end-of-text id, which also begins each document in training)");
        }
        if (ids.length > max) {
            throw new IllegalArgumentException(what + " has " + ids.length + " tokens, more than the " + max
                    + " that fit the model's context (model.context = " + config.context() + ")");
        }
        for (int k = 0; k < ids.length; k++) {
            if (ids[k] < 0 || ids[k] >= config.vocabSize()) {
                throw new IllegalArgumentException(what + ", token " + k + ": id " + ids[k]
                        + " is outside the vocabulary 0 .. " + (config.vocabSize() - 1));
            }
        }
    }

    /** Generates for one batch of rows. */
    private void run(List<Row> rows, GenerationSettings s) {
        if (wholeSequencesOnly && rows.size() > 1) {
            for (Row r : rows) {
                run(List.of(r), s); // one unpadded row: no padding mask needed
            }
            return;
        }
        boolean useCache = s.cache() && cached != null;
        int b = rows.size();
        int lmax = 0;
        int most = 0;
        for (Row r : rows) {
            lmax = Math.max(lmax, r.ids.length);
            most = Math.max(most, r.limit);
        }
        int capacity = lmax + most;
        int[][] slotIds = new int[b][capacity];
        int[][] slotPos = new int[b][capacity];
        float[][] slotMask = new float[b][capacity];
        for (int i = 0; i < b; i++) {
            int[] p = rows.get(i).ids;
            int pad = lmax - p.length;
            for (int k = 0; k < p.length; k++) {
                slotIds[i][pad + k] = p[k];
                slotPos[i][pad + k] = k;
                slotMask[i][pad + k] = 1;
            }
        }
        int filled = lmax; // slots fed so far
        int fedFrom = 0; // the first slot the next run feeds
        Result past = null;
        try {
            while (true) {
                float[] logits; // [B, V]
                if (useCache) {
                    Result now = runCached(slotIds, slotPos, slotMask, fedFrom, filled, past, b);
                    if (past != null) {
                        past.close();
                    }
                    past = now;
                    logits = values((TFloat32) now.get(0));
                } else {
                    logits = runUncached(slotIds, slotPos, slotMask, filled);
                }
                boolean any = false;
                int v = config.vocabSize();
                for (int i = 0; i < b; i++) {
                    Row r = rows.get(i);
                    if (!r.active()) {
                        continue;
                    }
                    float[] row = Arrays.copyOfRange(logits, i * v, (i + 1) * v);
                    step(r, row, s);
                    if (r.active()) {
                        any = true;
                        slotIds[i][filled] = r.out[r.n - 1];
                        slotPos[i][filled] = r.ids.length + r.n - 1;
                        slotMask[i][filled] = 1;
                    }
                }
                if (!any) {
                    return;
                }
                fedFrom = filled;
                filled++;
            }
        } finally {
            if (past != null) {
                past.close();
            }
        }
    }

    /** Chooses row {@code r}'s next token from its logits and decides whether the row ends. */
    static void step(Row r, float[] logits, GenerationSettings s) {
        if (r.limit <= 0) {
            r.finish = FinishReason.CONTEXT;
            return;
        }
        int next = Sampling.choose(logits, r.seen, r.seenCount, s, r.random);
        for (int stop : s.stopTokens()) {
            if (next == stop) {
                r.finish = FinishReason.STOP_TOKEN;
                return;
            }
        }
        r.out[r.n] = next;
        r.logProbs[r.n] = (float) Sampling.logProb(logits, next);
        r.n++;
        r.see(next);
        if (!s.stopStrings().isEmpty()) {
            String text = s.decoder().apply(Arrays.copyOf(r.out, r.n));
            for (String stop : s.stopStrings()) {
                if (text.contains(stop)) {
                    r.finish = FinishReason.STOP_STRING;
                    return;
                }
            }
        }
        if (r.n == s.maxNewTokens()) {
            r.finish = FinishReason.MAX_TOKENS;
        } else if (r.n == r.limit) {
            r.finish = FinishReason.CONTEXT;
        }
    }

    /** Feeds slots {@code from .. to-1} after the cache in {@code past} (none: an empty one). */
    private Result runCached(int[][] ids, int[][] pos, float[][] m, int from, int to, Result past, int b) {
        List<Tensor> owned = new ArrayList<>();
        try {
            TInt32 t = ints(ids, from, to);
            owned.add(t);
            TInt32 p = ints(pos, from, to);
            owned.add(p);
            TFloat32 mk = floats(m, to);
            owned.add(mk);
            Session.Runner r = session.runner().feed(tokens, t).feed(positions, p).feed(mask, mk);
            TFloat32 empty = null;
            if (past == null) {
                empty = TFloat32.tensorOf(Shape.of(b, model.keyValueHeads(), 0, config.headSize()));
                owned.add(empty);
            }
            for (int l = 0; l < config.layers(); l++) {
                // the fetched tensors go back in as they are: no copy to the Java heap
                r.feed(pastKeys.get(l), past == null ? empty : past.get(1 + 2 * l));
                r.feed(pastValues.get(l), past == null ? empty : past.get(2 + 2 * l));
            }
            r.fetch(cachedNext);
            for (int l = 0; l < config.layers(); l++) {
                r.fetch(cached.present().keys().get(l)).fetch(cached.present().values().get(l));
            }
            return r.run();
        } finally {
            owned.forEach(Tensor::close);
        }
    }

    /** Recomputes slots {@code 0 .. to-1} from scratch. */
    private float[] runUncached(int[][] ids, int[][] pos, float[][] m, int to) {
        try (TInt32 t = ints(ids, 0, to);
                TInt32 p = ints(pos, 0, to);
                TFloat32 mk = floats(m, to);
                Result r = session.runner().feed(tokens, t).feed(positions, p).feed(mask, mk).fetch(uncachedNext)
                        .run()) {
            return values((TFloat32) r.get(0));
        }
    }

    @Override
    public synchronized List<float[]> logProbs(List<int[]> prompts, List<int[]> completions) {
        open();
        if (prompts.size() != completions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + completions.size()
                    + " completions: give one completion per prompt");
        }
        int b = prompts.size();
        List<float[]> out = new ArrayList<>();
        if (b == 0) {
            return out;
        }
        int t = 1;
        for (int i = 0; i < b; i++) {
            check("prompt " + i, prompts.get(i), 1, config.context());
            check("completion " + i, completions.get(i), 0, config.context());
            int len = prompts.get(i).length + completions.get(i).length;
            if (len > config.context()) {
                throw new IllegalArgumentException("prompt " + i + " and its completion hold " + len
                        + " tokens, more than the model's context (model.context = " + config.context() + ")");
            }
            t = Math.max(t, len);
        }
        int[][] ids = new int[b][t];
        int[][] next = new int[b][t];
        float[][] m = new float[b][t];
        for (int i = 0; i < b; i++) { // right-padded: positions 0 .. len-1 are those of the training forward
            int[] p = prompts.get(i);
            int[] c = completions.get(i);
            int len = p.length + c.length;
            for (int k = 0; k < len; k++) {
                ids[i][k] = k < p.length ? p[k] : c[k - p.length];
                m[i][k] = 1;
            }
            for (int k = 0; k + 1 < len; k++) {
                next[i][k] = ids[i][k + 1];
            }
        }
        float[] all;
        try (TInt32 tk = ints(ids, 0, t);
                TInt32 tg = ints(next, 0, t);
                TFloat32 mk = floats(m, t);
                Result r = session.runner().feed(tokens, tk).feed(targets, tg).feed(mask, mk).fetch(scored).run()) {
            all = values((TFloat32) r.get(0)); // [B, T]
        }
        for (int i = 0; i < b; i++) {
            int lp = prompts.get(i).length;
            float[] row = new float[completions.get(i).length];
            for (int j = 0; j < row.length; j++) {
                row[j] = all[i * t + lp + j - 1]; // the logits at slot L+j-1 predict completion token j
            }
            out.add(row);
        }
        return out;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("this generation session is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            session.close();
            graph.close();
        }
    }

    private static TInt32 ints(int[][] x, int from, int to) {
        int w = to - from;
        int[] flat = new int[x.length * w];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], from, flat, i * w, w);
        }
        return TInt32.tensorOf(Shape.of(x.length, w), DataBuffers.of(flat, true, false));
    }

    private static TFloat32 floats(float[][] x, int to) {
        float[] flat = new float[x.length * to];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * to, to);
        }
        return TFloat32.tensorOf(Shape.of(x.length, to), DataBuffers.of(flat, true, false));
    }

    private static float[] values(TFloat32 t) {
        float[] x = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(x, false, false));
        return x;
    }
}
