package org.align4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.align4j.api.generate.Completion;
import org.align4j.api.generate.Completion.FinishReason;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.SafetensorsWeightStore;
import org.align4j.model.TransformerFactoryImpl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
 * Generation and scoring on a tiny seeded model with the real model, weights store and standard attention: the KV
 * cache against recomputing the prefix, batches against single prompts, log-probs against log-softmax in double,
 * stop tokens and strings, seeds, the context limit, weight updates and bad input.
 */
class GenerationSessionTest {

    static final ModelConfig CONFIG = ModelConfig.builder().vocabSize(37).layers(2).dModel(32).heads(4).context(40)
            .initStd(0.5f).build();
    static final GeneratorImpl GENERATOR = new GeneratorImpl(new TransformerFactoryImpl(),
            new SafetensorsWeightStore(), null);

    static Map<String, TensorData> weights;
    static GenerationSession session;

    /** Seeded initial weights under the prefix a pretrain run writes. */
    static Map<String, TensorData> weights(long seed) {
        try (Graph g = new Graph()) {
            Transformer m = new TransformerFactoryImpl().create(Ops.create(g), "model.", CONFIG,
                    new StandardAttention());
            try (Session s = new Session(g)) {
                m.initialize(s, seed);
                return m.read(s);
            }
        }
    }

    @BeforeAll
    static void open() {
        weights = weights(1);
        session = GENERATOR.open(CONFIG, new StandardAttention(), weights);
    }

    @AfterAll
    static void close() {
        session.close();
    }

    /** 20 prompts of lengths 1 .. 15, seeded. */
    static List<int[]> prompts(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(r.ints(1 + r.nextInt(15), 0, CONFIG.vocabSize()).toArray());
        }
        return out;
    }

    @Test
    void cachedGreedyGenerationEqualsRecomputingThePrefixTokenForToken() {
        List<int[]> prompts = prompts(3, 20);
        GenerationSettings greedy = GenerationSettings.greedy(12);
        List<List<Completion>> cached = session.generate(prompts, greedy);
        List<List<Completion>> uncached = session.generate(prompts, greedy.toBuilder().cache(false).build());
        double maxAbs = 0;
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < prompts.size(); i++) {
            Completion a = cached.get(i).get(0);
            Completion b = uncached.get(i).get(0);
            assertArrayEquals(b.tokens(), a.tokens(), "prompt " + i);
            assertEquals(FinishReason.MAX_TOKENS, a.finishReason());
            assertEquals(12, a.tokens().length);
            for (int j = 0; j < a.tokens().length; j++) {
                maxAbs = Math.max(maxAbs, Math.abs(a.logProbs()[j] - b.logProbs()[j]));
            }
            distinct.add(Arrays.toString(a.tokens()));
        }
        System.out.printf("cached vs uncached greedy, 20 prompts x 12 tokens: max |log p cached - log p uncached|"
                + " = %.3g%n", maxAbs);
        assertTrue(maxAbs <= 1e-4, "max abs difference of the chosen tokens' log-probs: " + maxAbs);
        assertTrue(distinct.size() > 10, "the prompts should continue differently: " + distinct);
    }

    /** A third party's kernel that attends over whole sequences only, as the README's example kernel does. */
    static final class WholeSequencesOnly implements org.align4j.api.attention.AttentionKernel {
        @Override
        public org.tensorflow.Operand<org.tensorflow.types.TFloat32> attend(org.tensorflow.op.Ops tf,
                org.align4j.api.attention.AttentionInputs in) {
            if (in.queryOffset() != null || in.keyMask() != null) {
                throw new UnsupportedOperationException("whole sequences only");
            }
            return new StandardAttention().attend(tf, in);
        }
    }

    @Test
    void aKernelForWholeSequencesOnlyStillGeneratesRecomputingThePrefixOneRowAtATime() {
        List<int[]> prompts = prompts(5, 6);
        GenerationSettings greedy = GenerationSettings.greedy(8);
        List<List<Completion>> expected = session.generate(prompts, greedy);
        try (GenerationSession whole = GENERATOR.open(CONFIG, new WholeSequencesOnly(), weights)) {
            assertTrue(whole.warnings().stream().anyMatch(w -> w.contains("no KV-cache support")), whole.warnings()
                    .toString());
            assertTrue(whole.warnings().stream().anyMatch(w -> w.contains("one at a time")), whole.warnings()
                    .toString());
            List<List<Completion>> got = whole.generate(prompts, greedy); // the cache is asked for, and not there
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(expected.get(i).get(0).tokens(), got.get(i).get(0).tokens(), "prompt " + i);
            }
            // scoring works too: right padding needs no mask under a causal one
            List<int[]> completions = new ArrayList<>();
            for (List<Completion> c : expected) {
                completions.add(c.get(0).tokens());
            }
            List<float[]> a = session.logProbs(prompts, completions);
            List<float[]> b = whole.logProbs(prompts, completions);
            for (int i = 0; i < prompts.size(); i++) {
                for (int j = 0; j < a.get(i).length; j++) {
                    assertEquals(a.get(i)[j], b.get(i)[j], 1e-5, "prompt " + i + ", token " + j);
                }
            }
        }
    }

    @Test
    void aBatchOfPromptsOfDifferentLengthsContinuesEachAsItWouldAlone() {
        List<int[]> prompts = prompts(4, 6);
        GenerationSettings greedy = GenerationSettings.greedy(8);
        List<List<Completion>> batched = session.generate(prompts, greedy);
        for (int i = 0; i < prompts.size(); i++) {
            Completion alone = session.generate(List.of(prompts.get(i)), greedy).get(0).get(0);
            assertArrayEquals(alone.tokens(), batched.get(i).get(0).tokens(), "prompt " + i);
            for (int j = 0; j < alone.tokens().length; j++) {
                assertEquals(alone.logProbs()[j], batched.get(i).get(0).logProbs()[j], 1e-4);
            }
        }
        // rows split over several batches give the same
        List<List<Completion>> small = session.generate(prompts, greedy.toBuilder().maxBatch(4).build());
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(batched.get(i).get(0).tokens(), small.get(i).get(0).tokens());
        }
    }

    /** The model's logits for one unpadded sequence, from a graph of its own. */
    static float[][] logitsAlone(int[] ids) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "model.", CONFIG, new StandardAttention());
            Operand<TFloat32> logits = m.lmLogits(tf, m.hidden(tf, tf.constant(new int[][] {ids}), null));
            try (Session s = new Session(g)) {
                m.assign(s, weights, false);
                try (Result r = s.runner().fetch(logits).run()) {
                    TFloat32 t = (TFloat32) r.get(0);
                    float[][] out = new float[ids.length][CONFIG.vocabSize()];
                    for (int p = 0; p < ids.length; p++) {
                        for (int k = 0; k < CONFIG.vocabSize(); k++) {
                            out[p][k] = t.getFloat(0, p, k);
                        }
                    }
                    return out;
                }
            }
        }
    }

    /** log softmax in double. */
    static double logSoftmax(float[] row, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : row) {
            max = Math.max(max, x);
        }
        double z = 0;
        for (float x : row) {
            z += Math.exp(x - max);
        }
        return row[target] - max - Math.log(z);
    }

    @Test
    void logProbsOfGivenCompletionsMatchALogSoftmaxInDouble() {
        List<int[]> prompts = prompts(5, 7);
        List<int[]> completions = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(6);
        for (int i = 0; i < prompts.size(); i++) {
            completions.add(r.ints(i == 0 ? 0 : 1 + r.nextInt(10), 0, CONFIG.vocabSize()).toArray());
        }
        List<float[]> got = session.logProbs(prompts, completions);
        double num = 0;
        double den = 0;
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            int[] c = completions.get(i);
            assertEquals(c.length, got.get(i).length);
            int[] all = new int[p.length + c.length];
            System.arraycopy(p, 0, all, 0, p.length);
            System.arraycopy(c, 0, all, p.length, c.length);
            float[][] logits = logitsAlone(all); // unpadded, batch of one
            for (int j = 0; j < c.length; j++) {
                double want = logSoftmax(logits[p.length + j - 1], c[j]);
                num += (got.get(i)[j] - want) * (got.get(i)[j] - want);
                den += want * want;
            }
        }
        double rel = Math.sqrt(num / den);
        System.out.printf("log-probs of given completions vs log-softmax in double: ||got - want|| / ||want|| ="
                + " %.3g%n", rel);
        assertTrue(den > 0);
        assertTrue(rel <= 1e-5, "relative error " + rel);
    }

    @Test
    void theLogProbsOfGeneratedTokensAgreeWithScoringThem() {
        List<int[]> prompts = prompts(7, 4);
        List<List<Completion>> out = session.generate(prompts,
                GenerationSettings.builder().temperature(1).maxNewTokens(9).seed(2).build());
        List<int[]> completions = new ArrayList<>();
        for (List<Completion> c : out) {
            completions.add(c.get(0).tokens());
        }
        List<float[]> scored = session.logProbs(prompts, completions);
        for (int i = 0; i < prompts.size(); i++) {
            float[] drawn = out.get(i).get(0).logProbs();
            for (int j = 0; j < drawn.length; j++) {
                assertEquals(scored.get(i)[j], drawn[j], 1e-4, "prompt " + i + " token " + j);
            }
        }
    }

    @Test
    void seedsReproduceAndSamplesDiffer() {
        List<int[]> prompts = prompts(8, 3);
        GenerationSettings s = GenerationSettings.builder().temperature(1.2).topK(20).topP(0.95)
                .repetitionPenalty(1.1).samples(3).maxNewTokens(10).seed(7).build();
        List<List<Completion>> a = session.generate(prompts, s);
        List<List<Completion>> b = session.generate(prompts, s);
        List<List<Completion>> c = session.generate(prompts, s.toBuilder().seed(8).build());
        assertEquals(3, a.size());
        Set<String> samples = new HashSet<>();
        boolean otherSeedDiffers = false;
        for (int i = 0; i < 3; i++) {
            assertEquals(3, a.get(i).size());
            for (int j = 0; j < 3; j++) {
                assertArrayEquals(a.get(i).get(j).tokens(), b.get(i).get(j).tokens());
                samples.add(Arrays.toString(a.get(i).get(j).tokens()));
                otherSeedDiffers |= !Arrays.equals(a.get(i).get(j).tokens(), c.get(i).get(j).tokens());
            }
        }
        assertTrue(samples.size() >= 8, "9 samples should mostly differ: " + samples);
        assertTrue(otherSeedDiffers);
        // the same prompt's samples are the same whether it is batched with others or not
        List<List<Completion>> alone = session.generate(List.of(prompts.get(0)), s);
        for (int j = 0; j < 3; j++) {
            assertArrayEquals(a.get(0).get(j).tokens(), alone.get(0).get(j).tokens());
        }
    }

    @Test
    void aStopTokenEndsOneRowWhileTheOthersGoOn() {
        List<int[]> prompts = prompts(9, 5);
        GenerationSettings greedy = GenerationSettings.greedy(10);
        List<List<Completion>> free = session.generate(prompts, greedy);
        int[] first = free.get(0).get(0).tokens();
        int stop = first[3];
        int cut = 0;
        while (first[cut] != stop) {
            cut++;
        }
        List<List<Completion>> stopped = session.generate(prompts, greedy.toBuilder().stopTokens(stop).build());
        Completion c = stopped.get(0).get(0);
        assertEquals(FinishReason.STOP_TOKEN, c.finishReason());
        assertArrayEquals(Arrays.copyOf(first, cut), c.tokens());
        for (int i = 1; i < prompts.size(); i++) { // the others: their free run up to the stop token, if any
            int[] f = free.get(i).get(0).tokens();
            int k = 0;
            while (k < f.length && f[k] != stop) {
                k++;
            }
            assertArrayEquals(Arrays.copyOf(f, k), stopped.get(i).get(0).tokens(), "prompt " + i);
        }
    }

    @Test
    void rowsStopAtTheContext() {
        int[] longPrompt = prompts(10, 1).get(0);
        int[] prompt = new int[CONFIG.context() - 3];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = longPrompt[i % longPrompt.length];
        }
        List<List<Completion>> out = session.generate(List.of(prompt, new int[] {1, 2}),
                GenerationSettings.greedy(10));
        assertEquals(FinishReason.CONTEXT, out.get(0).get(0).finishReason());
        assertEquals(3, out.get(0).get(0).tokens().length);
        assertEquals(FinishReason.MAX_TOKENS, out.get(1).get(0).finishReason());
        assertEquals(10, out.get(1).get(0).tokens().length);
    }

    @Test
    void updateReplacesTheWeightsWithoutANewSession() {
        Map<String, TensorData> other = weights(2);
        List<int[]> prompts = prompts(11, 3);
        GenerationSettings greedy = GenerationSettings.greedy(8);
        try (GenerationSession s = GENERATOR.open(CONFIG, new StandardAttention(), weights);
                GenerationSession fresh = GENERATOR.open(CONFIG, new StandardAttention(), other)) {
            List<List<Completion>> before = s.generate(prompts, greedy);
            Map<String, TensorData> unprefixed = new LinkedHashMap<>();
            other.forEach((k, v) -> unprefixed.put(k.substring("model.".length()), v));
            s.update(unprefixed); // any one prefix will do
            List<List<Completion>> after = s.generate(prompts, greedy);
            List<List<Completion>> want = fresh.generate(prompts, greedy);
            boolean changed = false;
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(want.get(i).get(0).tokens(), after.get(i).get(0).tokens());
                changed |= !Arrays.equals(before.get(i).get(0).tokens(), after.get(i).get(0).tokens());
            }
            assertTrue(changed);
        }
    }

    @Test
    void badInputIsRefusedNamingWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> session.generate(List.of(new int[] {1}, new int[0]), GenerationSettings.greedy(2)));
        assertTrue(e.getMessage().startsWith("prompt 1 is empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> session.generate(List.of(new int[] {1, 99}), GenerationSettings.greedy(2)));
        assertEquals("prompt 0, token 1: id 99 is outside the vocabulary 0 .. 36", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> session.generate(List.of(new int[CONFIG.context()]), GenerationSettings.greedy(2)));
        assertTrue(e.getMessage().contains("has 40 tokens, more than the 39"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> session.logProbs(List.of(new int[30]), List.of(new int[11])));
        assertTrue(e.getMessage().contains("41 tokens, more than the model's context"), e.getMessage());
        Map<String, TensorData> missing = new LinkedHashMap<>(weights);
        missing.remove("model.ln_f.weight");
        e = assertThrows(IllegalArgumentException.class,
                () -> GENERATOR.open(CONFIG, new StandardAttention(), missing));
        assertTrue(e.getMessage().contains("no value for parameter \"ln_f.weight\""), e.getMessage());
    }

    @Test
    void opensAModelFolder(@TempDir Path dir) throws IOException {
        SafetensorsWeightStore store = new SafetensorsWeightStore();
        store.save(dir.resolve("model.safetensors"), weights, Map.of("format", "align4j"));
        store.saveConfig(dir.resolve("config.json"), CONFIG);
        List<int[]> prompts = prompts(12, 2);
        try (GenerationSession s = GENERATOR.openFolder(dir, new StandardAttention())) {
            assertEquals(CONFIG, s.config());
            assertEquals(List.of(), s.warnings());
            List<List<Completion>> got = s.generate(prompts, GenerationSettings.greedy(5));
            List<List<Completion>> want = session.generate(prompts, GenerationSettings.greedy(5));
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(want.get(i).get(0).tokens(), got.get(i).get(0).tokens());
            }
        }
        Files.delete(dir.resolve("config.json"));
        IOException e = assertThrows(IOException.class, () -> GENERATOR.openFolder(dir, new StandardAttention()));
        assertEquals(dir + ": no config.json in the model folder (a model folder holds config.json,"
                + " model.safetensors and tokenizer.json, as a stage writes them to"
                + " <workdir>/stage-<i>-<trainer>/model)",
                e.getMessage());
    }

    /**
     * tokenLogProbs and its gradient with respect to the logits against a double-precision log-softmax and its
     * central differences (step 1e-5 in double: error ~1e-10), on {@code S = sum(w * tokenLogProbs)}.
     */
    @Test
    void tokenLogProbsAndItsGradientMatchCentralDifferences() {
        int b = 2;
        int t = 3;
        int v = 7;
        SplittableRandom r = new SplittableRandom(13);
        float[] x = new float[b * t * v];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (3 * r.nextGaussian());
        }
        int[] targets = r.ints(b * t, 0, v).toArray();
        float[] w = new float[b * t];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextDouble(-1, 1);
        }
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> logits = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, v)));
            Placeholder<TInt32> tg = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> lp = GENERATOR.tokenLogProbs(tf, logits, tg); // [B, T]
            Operand<TFloat32> objective = tf.reduceSum(tf.math.mul(lp, tf.constant(Shape.of(b, t),
                    DataBuffers.of(w, true, false))), tf.constant(new int[] {0, 1}));
            org.tensorflow.Output<?>[] grad = g.addGradients(objective.asOutput(),
                    new org.tensorflow.Output<?>[] {logits.asOutput()});
            try (Session s = new Session(g);
                    TFloat32 xt = TFloat32.tensorOf(Shape.of(b, t, v), DataBuffers.of(x, true, false));
                    TInt32 tt = TInt32.tensorOf(Shape.of(b, t), DataBuffers.of(targets, true, false));
                    Result res = s.runner().feed(logits, xt).feed(tg, tt).fetch(lp).fetch(grad[0]).run()) {
                float[] got = new float[b * t];
                ((TFloat32) res.get(0)).copyTo(DataBuffers.of(got, false, false));
                float[] gotGrad = new float[x.length];
                ((TFloat32) res.get(1)).copyTo(DataBuffers.of(gotGrad, false, false));
                double[] xd = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    xd[i] = x[i];
                }
                for (int n = 0; n < b * t; n++) {
                    assertEquals(logSoftmax(Arrays.copyOfRange(x, n * v, (n + 1) * v), targets[n]), got[n],
                            1e-5 * (1 + Math.abs(got[n])), "row " + n);
                }
                double num = 0;
                double den = 0;
                double h = 1e-5;
                for (int i = 0; i < x.length; i++) {
                    double[] plus = xd.clone();
                    double[] minus = xd.clone();
                    plus[i] += h;
                    minus[i] -= h;
                    double fd = (objective(plus, targets, w, v) - objective(minus, targets, w, v)) / (2 * h);
                    num += (gotGrad[i] - fd) * (gotGrad[i] - fd);
                    den += fd * fd;
                }
                double rel = Math.sqrt(num / den);
                System.out.printf("tokenLogProbs gradient vs central differences: relative error %.3g%n", rel);
                assertTrue(den > 0);
                assertTrue(rel <= 1e-5, "||grad - fd|| / ||fd|| = " + rel);
            }
        }
    }

    /** {@code sum_n w[n] * log softmax(x[n])[target[n]]} in double. */
    private static double objective(double[] x, int[] targets, float[] w, int v) {
        double s = 0;
        for (int n = 0; n < targets.length; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < v; k++) {
                max = Math.max(max, x[n * v + k]);
            }
            double z = 0;
            for (int k = 0; k < v; k++) {
                z += Math.exp(x[n * v + k] - max);
            }
            s += w[n] * (x[n * v + targets[n]] - max - Math.log(z));
        }
        return s;
    }

    @Test
    void closedSessionsSaySo() {
        GenerationSession s = GENERATOR.open(CONFIG, new StandardAttention(), weights);
        s.close();
        s.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> s.generate(List.of(new int[] {1}), GenerationSettings.greedy(1)));
        assertEquals("this generation session is closed", e.getMessage());
        assertFalse(e.getMessage().isEmpty());
        assertNotEquals(null, s.config());
    }
}
