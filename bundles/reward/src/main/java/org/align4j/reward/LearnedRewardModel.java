package org.align4j.reward;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.LikelihoodInputs;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A trained reward model read from a model folder ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}, as a reward stage writes them), in a graph and session of its own. The folder is checked
 * when the object is made; the model is loaded on the first call (so the attention kernel and tokenizer services may
 * start later than this one) and kept until {@link #close()}. Calls run one at a time.
 *
 * <p><b>Outcome model</b> ({@code config.classes} 0): reads {@code <eos> prompt completion <eos>} (as the reward
 * trainer does) and scores it with the scalar head at the last token; with {@code config.score_likelihood}, plus the
 * model's mean log-probability of the completion's tokens and the final {@code <eos>} (as the trainer scores). A
 * sequence longer than the model's context keeps its last {@code context} tokens (the start of the prompt is cut).
 *
 * <p><b>Process model</b> ({@code config.classes > 0}): reads {@code <eos> prompt step1 <|step|> step2 <|step|> ...}
 * (as the process trainer does), where the steps are the completion's lines (split at {@code '\n'}, a final empty
 * piece from a trailing newline dropped; a completion without lines is one empty step). The classification head
 * at each separator gives the step's logits; a step's score is the probability that it is correct rather than
 * incorrect, {@code sigmoid(z)} with the correctness logit {@code z = logit[correct] - logit[incorrect]} (the first
 * and the last logit, as the {@code step-binary} loss reads them; for a one-logit head, {@code z = logit[0]}). The
 * outcome score is the lowest step score (a solution is as good as its worst step): the process trainer does not
 * train the scalar head, so it is not read. With {@code config.step_credit} (an outcome model scored by its steps) the
 * outcome score is instead the expected partial credit {@code sum_s prod_{s' <= s} p_s}, the number of steps right
 * before the first wrong one, as the reward trainer scores it. With {@code config.score_likelihood} the step logits add
 * {@code [min, mean] @ cls_head.likelihood}: the lowest and the mean log-probability of the step's tokens, as the
 * process trainer computes them. A sequence longer than the context is cut from the left; if a step's
 * separator would be cut, the call fails naming the element.
 *
 * <p>With {@code config.likelihood_reference} those log-probabilities are those of the frozen model in the folder's
 * {@code reference/} ({@code config.json}, {@code model.safetensors}), in the same graph, and the features are the
 * lowest and the mean token <em>probability</em>: an outcome model adds {@code [min, mean] @ score_head.likelihood}
 * of the completion's tokens (and final {@code <eos>}) instead of the mean log-probability, and a process model
 * weights each step's {@code [min, mean]} (as log-odds when scored by its steps, {@code step_credit}) and ends each
 * step with the newline token instead of {@code <|step|>}, as the trainer does.
 *
 * <p>{@link #scoreTokens}: an outcome model reads the ids as given ({@code <eos> prompt completion <eos>}); a process
 * model decodes them and scores the text (its steps are lines).
 */
final class LearnedRewardModel implements RewardModel, AutoCloseable {
    static final String CONFIG = RewardPackager.CONFIG;
    static final String WEIGHTS = RewardPackager.WEIGHTS;
    static final String TOKENIZER = RewardPackager.TOKENIZER;
    static final List<String> FILES = RewardPackager.FILES;
    static final String REFERENCE = RewardPackager.REFERENCE;

    /** The services a learned model is built with. */
    interface Parts {
        TransformerFactory transformers();

        WeightStore weights();

        /** May be {@code null} (tests): the session gets TensorFlow's defaults. */
        TensorFlowRuntime runtime();

        /** The attention kernel of that {@code align4j.name}; fails saying which bundle to install. */
        AttentionKernel kernel(String name) throws IOException;

        /** Loads a {@code tokenizer.json}. */
        Tokenizer tokenizer(Path file) throws IOException;
    }

    private final Path folder;
    private final Parts parts;
    private final ModelConfig config;
    /** The frozen reference's, or null without likelihood_reference. */
    private final ModelConfig referenceConfig;
    private Loaded loaded;
    private boolean closed;

    /** Checks the folder and reads its {@code config.json}. */
    LearnedRewardModel(Path folder, Parts parts) throws IOException {
        this.folder = folder;
        this.parts = parts;
        if (!Files.isDirectory(folder)) {
            throw new IOException(folder + ": no such folder (a reward-model folder holds " + String.join(", ", FILES)
                    + ", as a reward stage writes them to <workdir>/stage-<i>-reward/model)");
        }
        for (String name : FILES) {
            if (!Files.isRegularFile(folder.resolve(name))) {
                throw new IOException(folder + ": no " + name + " in the reward-model folder (it holds "
                        + String.join(", ", FILES) + ", as a reward stage writes them to"
                        + " <workdir>/stage-<i>-reward/model)");
            }
        }
        this.config = parts.weights().loadConfig(folder.resolve(CONFIG));
        if (config.likelihoodReference()) {
            Path ref = folder.resolve(REFERENCE);
            for (String name : List.of(CONFIG, WEIGHTS)) {
                if (!Files.isRegularFile(ref.resolve(name))) {
                    throw new IOException(folder + ": " + CONFIG + " says likelihood_reference, but there is no "
                            + REFERENCE + "/" + name + " (the frozen model whose likelihood it scores with, as the"
                            + " reward stage writes it to <workdir>/stage-<i>-reward/model/" + REFERENCE + ")");
                }
            }
            this.referenceConfig = parts.weights().loadConfig(ref.resolve(CONFIG));
            if (referenceConfig.vocabSize() != config.vocabSize()) {
                throw new IOException(ref.resolve(CONFIG) + ": vocab_size " + referenceConfig.vocabSize()
                        + ", but the reward model's is " + config.vocabSize() + ": the files are of different models");
            }
        } else {
            this.referenceConfig = null;
        }
    }

    ModelConfig config() {
        return config;
    }

    boolean isProcess() {
        return config.classes() > 0;
    }

    /** The graph, session and tokenizer, built on the first call. */
    private static final class Loaded implements AutoCloseable {
        final Graph graph;
        Session session;
        final Tokenizer tokenizer;
        final int separator; // -1 for an outcome model
        Placeholder<TInt32> tokens; // [N, T]
        Placeholder<TInt32> last; // [N]
        Placeholder<TInt32> next; // [N, T] with score_likelihood
        Placeholder<TFloat32> nextInCompletion; // [N, T] with score_likelihood
        Placeholder<TFloat32> stepTokens; // [N, S, T] with score_likelihood (process)
        Placeholder<TInt32> positions; // [N, S]
        Operand<TFloat32> scores; // [N]
        Operand<TFloat32> stepLogits; // [N, S, C]

        Loaded(Graph graph, Tokenizer tokenizer, int separator) {
            this.graph = graph;
            this.tokenizer = tokenizer;
            this.separator = separator;
        }

        @Override
        public void close() {
            if (session != null) {
                session.close();
            }
            graph.close();
        }
    }

    private Loaded load() throws IOException {
        if (closed) {
            throw new IllegalStateException(folder + ": this reward model was closed (its service is going away)");
        }
        if (loaded != null) {
            return loaded;
        }
        Tokenizer tokenizer = parts.tokenizer(folder.resolve(TOKENIZER));
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IOException(folder + ": " + TOKENIZER + " has " + tokenizer.vocabSize() + " tokens but "
                    + CONFIG + " says vocab_size " + config.vocabSize() + ": the files are of different models");
        }
        int separator = -1;
        if (isProcess() && config.likelihoodReference()) { // the trainer's rule: a step ends at its newline
            int[] nl = tokenizer.encode("\n");
            if (nl.length != 1) {
                throw new IOException(folder + ": " + TOKENIZER + " encodes \"\\n\" as " + nl.length + " tokens; this"
                        + " process reward model ends each step at its newline, one token");
            }
            separator = nl[0];
        } else if (isProcess()) {
            separator = tokenizer.specialTokens().id(SpecialTokens.STEP).orElseThrow(() -> new IOException(folder
                    + ": a process reward model (" + CONFIG + " classes " + config.classes() + "), but " + TOKENIZER
                    + " has no step separator token (" + SpecialTokens.STEP + ")"));
        }
        AttentionKernel kernel = parts.kernel(config.attention());
        WeightStore.Weights weights = parts.weights().load(folder.resolve(WEIGHTS));
        Map<String, TensorData> named;
        try {
            named = withoutPrefix(weights.tensors());
        } catch (IllegalArgumentException e) {
            throw new IOException(folder.resolve(WEIGHTS) + ": " + e.getMessage(), e);
        }
        Graph graph = new Graph();
        Session session = null;
        try {
            TensorFlowRuntime runtime = parts.runtime();
            Ops tf = runtime == null ? Ops.create(graph) : runtime.ops(graph);
            Transformer model = parts.transformers().create(tf, "", config, kernel);
            Transformer reference = referenceConfig == null ? null
                    : parts.transformers().create(tf, REFERENCE + ".", referenceConfig, kernel);
            Loaded l = new Loaded(graph, tokenizer, separator);
            build(tf, model, reference, l);
            session = runtime == null ? new Session(graph) : runtime.openSession(graph);
            l.session = session;
            try {
                model.assign(session, named, false);
            } catch (RuntimeException e) {
                throw new IOException(folder.resolve(WEIGHTS) + " does not fit " + folder.resolve(CONFIG) + ": "
                        + e.getMessage(), e);
            }
            if (reference != null) {
                Path ref = folder.resolve(REFERENCE);
                Map<String, TensorData> refNamed = new java.util.LinkedHashMap<>();
                try {
                    withoutPrefix(parts.weights().load(ref.resolve(WEIGHTS)).tensors())
                            .forEach((k, v) -> refNamed.put(REFERENCE + "." + k, v));
                    reference.assign(session, refNamed, false);
                } catch (RuntimeException e) {
                    throw new IOException(ref.resolve(WEIGHTS) + " does not fit " + ref.resolve(CONFIG) + ": "
                            + e.getMessage(), e);
                }
            }
            loaded = l;
            return l;
        } catch (IOException | RuntimeException | Error e) {
            if (session != null) {
                session.close();
            }
            graph.close();
            throw e;
        }
    }

    /** The scoring graph: the scalar head at each row's last position; for a process model the step logits. */
    private void build(Ops tf, Transformer model, Transformer reference, Loaded l) {
        l.tokens = tf.withName("tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
        Operand<TFloat32> hidden = model.hidden(tf, l.tokens, null); // [N, T, d]: right padding after every scored position
        // whose token log-probabilities the score reads: the frozen reference's, or the model's own
        Transformer lm = reference == null ? model : reference;
        Operand<TFloat32> lmHidden = reference == null ? hidden : reference.hidden(tf, l.tokens, null); // [N, T, d]
        Operand<TInt32> t = tf.gather(tf.shape(l.tokens), tf.constant(1), tf.constant(0)); // []
        if (isProcess()) {
            l.positions = tf.withName("step_positions").placeholder(TInt32.class,
                    Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> logits = model.classify(tf, hidden); // [N, T, C]
            Operand<TFloat32> at = tf.oneHot(l.positions, t, tf.constant(1f), tf.constant(0f)); // [N, S, T]
            l.stepLogits = tf.train.batchMatMul(at, logits, TFloat32.class); // [N, S, C]
            if (config.scoreLikelihood()) { // the trainer's rule: each step's [min, mean] token log-prob, weighted
                l.next = tf.withName("next_tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
                l.stepTokens = tf.withName("step_tokens").placeholder(TFloat32.class,
                        Placeholder.shape(Shape.of(-1, -1, -1)));
                l.stepLogits = tf.math.add(l.stepLogits, model.classifyLikelihood(tf,
                        reference != null && config.stepCredit() ? lm.stepLogOddsFeatures(tf, lmHidden, l.next,
                                l.stepTokens)
                                : reference != null ? lm.stepProbFeatures(tf, lmHidden, l.next, l.stepTokens)
                                : model.stepLogProbFeatures(tf, hidden, l.next, l.stepTokens))); // [N, S, C]
            }
        } else {
            l.last = tf.withName("last").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
            Operand<TFloat32> all = model.scalar(tf, hidden); // [N, T]
            Operand<TFloat32> pick = tf.oneHot(l.last, t, tf.constant(1f), tf.constant(0f)); // [N, T]
            l.scores = tf.reduceSum(tf.math.mul(all, pick), tf.constant(1)); // [N]
            if (config.scoreLikelihood()) { // the trainer's rule: mean log p of the completion's tokens, added
                l.next = tf.withName("next_tokens").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
                l.nextInCompletion = tf.withName("next_in_completion").placeholder(TFloat32.class,
                        Placeholder.shape(Shape.of(-1, -1)));
                l.scores = tf.math.add(l.scores, reference == null
                        ? model.meanLogProb(tf, hidden, l.next, l.nextInCompletion) // [N]
                        : tf.reshape(model.scalarLikelihood(tf, lm.stepProbFeatures(tf, lmHidden, l.next,
                                tf.expandDims(l.nextInCompletion, tf.constant(1)))), tf.constant(new int[] {-1})));
            }
        }
    }

    @Override
    public synchronized RewardScores score(List<PromptCompletion> batch) throws IOException {
        Loaded l = load();
        if (isProcess()) {
            List<List<String>> steps = new ArrayList<>();
            List<String> prompts = new ArrayList<>();
            for (PromptCompletion pc : batch) {
                prompts.add(pc.prompt());
                steps.add(PromptCompletion.steps(pc.completion()));
            }
            return scoreSteps(l, prompts, steps);
        }
        List<int[]> seqs = new ArrayList<>();
        int[] completionTokens = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            int[] completion = l.tokenizer.encode(batch.get(i).completion());
            seqs.add(outcomeSequence(l, l.tokenizer.encode(batch.get(i).prompt()), completion));
            completionTokens[i] = completion.length + 1;
        }
        return RewardScores.of(scoreOutcome(l, seqs, completionTokens));
    }

    @Override
    public synchronized RewardScores scoreTokens(List<int[]> prompts, List<int[]> completions) throws IOException {
        if (prompts.size() != completions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + completions.size()
                    + " completions");
        }
        Loaded l = load();
        if (isProcess()) {
            List<String> ps = new ArrayList<>();
            List<List<String>> steps = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                ps.add(l.tokenizer.decode(prompts.get(i)));
                steps.add(PromptCompletion.steps(l.tokenizer.decode(completions.get(i))));
            }
            return scoreSteps(l, ps, steps);
        }
        List<int[]> seqs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            for (int[] ids : List.of(prompts.get(i), completions.get(i))) {
                for (int id : ids) {
                    if (id < 0 || id >= config.vocabSize()) {
                        throw new IllegalArgumentException("element " + i + ": token id " + id + " is outside the"
                                + " model's vocabulary [0, " + config.vocabSize() + ")");
                    }
                }
            }
            seqs.add(outcomeSequence(l, prompts.get(i), completions.get(i)));
        }
        int[] completionTokens = new int[prompts.size()];
        for (int i = 0; i < completionTokens.length; i++) {
            completionTokens[i] = completions.get(i).length + 1;
        }
        return RewardScores.of(scoreOutcome(l, seqs, completionTokens));
    }

    /** {@code <eos> prompt completion <eos>}, its last {@code context} tokens. */
    private int[] outcomeSequence(Loaded l, int[] prompt, int[] completion) {
        int n = prompt.length + completion.length + 2;
        int[] ids = new int[n];
        ids[0] = l.tokenizer.eosId();
        System.arraycopy(prompt, 0, ids, 1, prompt.length);
        System.arraycopy(completion, 0, ids, 1 + prompt.length, completion.length);
        ids[n - 1] = l.tokenizer.eosId();
        int cut = Math.max(0, n - config.context());
        return cut == 0 ? ids : java.util.Arrays.copyOfRange(ids, cut, n);
    }

    /**
     * @param completionTokens per sequence, how many of its last tokens are the completion's (with the final
     *            {@code <eos>}); read with score_likelihood
     */
    private float[] scoreOutcome(Loaded l, List<int[]> seqs, int[] completionTokens) {
        float[] out = new float[seqs.size()];
        if (seqs.isEmpty()) {
            return out;
        }
        int width = 1;
        for (int[] s : seqs) {
            width = Math.max(width, s.length);
        }
        int[] flat = new int[seqs.size() * width];
        int[] last = new int[seqs.size()];
        java.util.Arrays.fill(flat, l.tokenizer.padId());
        for (int i = 0; i < seqs.size(); i++) {
            System.arraycopy(seqs.get(i), 0, flat, i * width, seqs.get(i).length);
            last[i] = seqs.get(i).length - 1;
        }
        int[] next = LikelihoodInputs.nextTokens(flat, seqs.size(), width);
        float[] inCompletion = new float[seqs.size() * width];
        for (int i = 0; i < seqs.size(); i++) {
            int length = seqs.get(i).length;
            int first = Math.max(1, length - completionTokens[i]); // the first token the model predicts is 1
            for (int j = first; j < length; j++) { // position j - 1 predicts token j
                inCompletion[i * width + j - 1] = 1f;
            }
        }
        try (TInt32 tokens = TInt32.tensorOf(Shape.of(seqs.size(), width), DataBuffers.of(flat, true, false));
                TInt32 lastT = TInt32.tensorOf(Shape.of(seqs.size()), DataBuffers.of(last, true, false));
                TInt32 nextT = TInt32.tensorOf(Shape.of(seqs.size(), width), DataBuffers.of(next, true, false));
                TFloat32 maskT = TFloat32.tensorOf(Shape.of(seqs.size(), width),
                        DataBuffers.of(inCompletion, true, false));
                Result r = withLikelihood(l, l.session.runner().feed(l.tokens, tokens).feed(l.last, lastT), nextT,
                        maskT).fetch(l.scores).run()) {
            TFloat32 s = (TFloat32) r.get(0); // [N]
            for (int i = 0; i < out.length; i++) {
                out[i] = s.getFloat(i);
            }
        }
        return out;
    }

    private static Session.Runner withLikelihood(Loaded l, Session.Runner runner, TInt32 next, TFloat32 mask) {
        return l.next == null ? runner : runner.feed(l.next, next).feed(l.nextInCompletion, mask);
    }

    private RewardScores scoreSteps(Loaded l, List<String> prompts, List<List<String>> steps) {
        int n = prompts.size();
        if (n == 0) {
            return RewardScores.withSteps(new float[0], List.of());
        }
        List<int[]> seqs = new ArrayList<>();
        List<int[]> seps = new ArrayList<>();
        int[] firstStep = new int[n]; // where each sequence's first step starts
        int width = 1;
        int s = 1;
        for (int i = 0; i < n; i++) {
            List<Integer> ids = new ArrayList<>();
            ids.add(l.tokenizer.eosId());
            for (int id : l.tokenizer.encode(prompts.get(i))) {
                ids.add(id);
            }
            firstStep[i] = ids.size();
            int[] pos = new int[steps.get(i).size()];
            for (int j = 0; j < pos.length; j++) {
                for (int id : l.tokenizer.encode(steps.get(i).get(j))) {
                    ids.add(id);
                }
                pos[j] = ids.size();
                ids.add(l.separator);
            }
            int cut = Math.max(0, ids.size() - config.context());
            if (pos.length > 0 && pos[0] < cut) {
                throw new IllegalArgumentException("element " + i + ": its steps take " + (ids.size() - pos[0])
                        + " tokens from the first step's end, more than the model's context of " + config.context()
                        + "; shorten the completion");
            }
            int[] seq = new int[ids.size() - cut];
            for (int k = 0; k < seq.length; k++) {
                seq[k] = ids.get(cut + k);
            }
            for (int j = 0; j < pos.length; j++) {
                pos[j] -= cut;
            }
            firstStep[i] -= cut;
            seqs.add(seq);
            seps.add(pos);
            width = Math.max(width, seq.length);
            s = Math.max(s, pos.length);
        }
        int[] flat = new int[n * width];
        java.util.Arrays.fill(flat, l.tokenizer.padId());
        int[] positions = new int[n * s];
        for (int i = 0; i < n; i++) {
            System.arraycopy(seqs.get(i), 0, flat, i * width, seqs.get(i).length);
            System.arraycopy(seps.get(i), 0, positions, i * s, seps.get(i).length);
        }
        // with score_likelihood, as the trainer: the positions that predict each step's tokens
        int[] next = LikelihoodInputs.nextTokens(flat, n, width);
        float[] mark = l.stepTokens == null ? new float[0]
                : LikelihoodInputs.stepTokens(n, s, width, firstStep, seps);
        float[] outcome = new float[n];
        List<float[]> stepScores = new ArrayList<>();
        try (TInt32 tokens = TInt32.tensorOf(Shape.of(n, width), DataBuffers.of(flat, true, false));
                TInt32 pos = TInt32.tensorOf(Shape.of(n, s), DataBuffers.of(positions, true, false));
                TInt32 nextT = TInt32.tensorOf(Shape.of(n, width), DataBuffers.of(next, true, false));
                TFloat32 markT = TFloat32.tensorOf(l.stepTokens == null ? Shape.of(0) : Shape.of(n, s, width),
                        DataBuffers.of(mark, true, false));
                Result r = (l.stepTokens == null ? l.session.runner() : l.session.runner().feed(l.next, nextT)
                        .feed(l.stepTokens, markT)).feed(l.tokens, tokens).feed(l.positions, pos)
                        .fetch(l.stepLogits).run()) {
            TFloat32 logits = (TFloat32) r.get(0); // [N, S, C]
            int c = (int) logits.shape().get(2);
            for (int i = 0; i < n; i++) {
                float[] scores = new float[seps.get(i).length];
                float min = Float.POSITIVE_INFINITY;
                double credit = 0; // step_credit: sum over steps of the probability that every step so far is right
                double allRight = 1;
                for (int j = 0; j < scores.length; j++) {
                    double z = c == 1 ? logits.getFloat(i, j, 0) : logits.getFloat(i, j, 0)
                            - logits.getFloat(i, j, c - 1);
                    scores[j] = (float) (1 / (1 + Math.exp(-z)));
                    min = Math.min(min, scores[j]);
                    allRight *= 1 / (1 + Math.exp(-z));
                    credit += allRight;
                }
                stepScores.add(scores);
                outcome[i] = config.stepCredit() ? (float) credit : min;
            }
        }
        return RewardScores.withSteps(outcome, stepScores);
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
            throw new IllegalArgumentException("no \"tok_emb.weight\" under any prefix: not an align4j model's"
                    + " weights");
        }
        Map<String, TensorData> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : weights.entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                throw new IllegalArgumentException("the weights mix prefixes: \"" + prefix + "tok_emb.weight\" but"
                        + " also \"" + e.getKey() + "\"; keep one model's weights in the folder");
            }
            out.put(e.getKey().substring(prefix.length()), e.getValue());
        }
        return out;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (loaded != null) {
            loaded.close();
            loaded = null;
        }
    }

    @Override
    public String toString() {
        return "learned reward model " + folder;
    }
}
