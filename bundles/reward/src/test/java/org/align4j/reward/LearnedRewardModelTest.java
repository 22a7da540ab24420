package org.align4j.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.attention.standard.StandardAttention;
import org.align4j.model.TransformerFactoryImpl;
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
 * A learned reward model read from a folder written by a tiny seeded model: its scores against the heads computed
 * independently (one unpadded sequence at a time through the model's hidden states, the head's dot product in
 * double), for outcome and process models.
 */
class LearnedRewardModelTest {
    @TempDir
    Path dir;

    static final List<PromptCompletion> BATCH = List.of(
            new PromptCompletion("Q: 3+8=?\n", "1. 3+8=11\nA: 11"),
            new PromptCompletion("Q: 12+5=?\n", "A: 17"),
            new PromptCompletion("Q: 1+1=?\n", ""),
            new PromptCompletion("Q: 29+4=?\n", "1. 9+4=13, write 3 carry 1\n2. 2+1=3\nA: 33\n"));

    /** The hidden states {@code [T, d]} of one unpadded sequence, and the model's parameters by name. */
    private static double[][] hidden(ModelConfig config, Map<String, TensorData> weights, int[] ids,
            Map<String, TensorData> params) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer m = new TransformerFactoryImpl().create(tf, "reward.", config, new StandardAttention());
            Placeholder<TInt32> tokens = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(1, -1)));
            Operand<TFloat32> h = m.hidden(tf, tokens, null); // [1, T, d]
            try (Session s = new Session(g)) {
                m.assign(s, weights, false);
                params.putAll(m.read(s));
                try (TInt32 t = TInt32.tensorOf(Shape.of(1, ids.length), DataBuffers.of(ids, true, false));
                        Result r = s.runner().feed(tokens, t).fetch(h).run()) {
                    TFloat32 out = (TFloat32) r.get(0);
                    double[][] rows = new double[ids.length][config.dModel()];
                    for (int i = 0; i < ids.length; i++) {
                        for (int k = 0; k < config.dModel(); k++) {
                            rows[i][k] = out.getFloat(0, i, k);
                        }
                    }
                    return rows;
                }
            }
        }
    }

    /** {@code log softmax(h E^T)[token]} in double: the tied LM head's log-probability of {@code token}. */
    private static double logProb(double[] h, float[] emb, int vocab, int token) {
        int d = h.length;
        double[] logits = new double[vocab];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < vocab; t++) {
            for (int k = 0; k < d; k++) {
                logits[t] += h[k] * emb[t * d + k];
            }
            max = Math.max(max, logits[t]);
        }
        double z = 0;
        for (int t = 0; t < vocab; t++) {
            z += Math.exp(logits[t] - max);
        }
        return logits[token] - max - Math.log(z);
    }

    /** {@code <eos> prompt completion <eos>}, as a reward stage reads it. */
    private static List<Integer> outcomeSequence(PromptCompletion pc) {
        List<Integer> seq = new ArrayList<>();
        seq.add(TinyModels.TOKENIZER.eosId());
        for (int id : TinyModels.TOKENIZER.encode(pc.prompt())) {
            seq.add(id);
        }
        for (int id : TinyModels.TOKENIZER.encode(pc.completion())) {
            seq.add(id);
        }
        seq.add(TinyModels.TOKENIZER.eosId());
        return seq;
    }

    /** {@code log p - log(1 - p)}, each at least 1e-6. */
    private static double logOdds(double p) {
        return Math.log(Math.max(p, 1e-6)) - Math.log(Math.max(1 - p, 1e-6));
    }

    /** {@code rm.scoreTokens} of the batch's prompts and completions, encoded. */
    private static RewardScores scoreTokens(LearnedRewardModel rm, List<PromptCompletion> batch) throws Exception {
        List<int[]> p = new ArrayList<>();
        List<int[]> c = new ArrayList<>();
        for (PromptCompletion pc : batch) {
            p.add(TinyModels.TOKENIZER.encode(pc.prompt()));
            c.add(TinyModels.TOKENIZER.encode(pc.completion()));
        }
        return rm.scoreTokens(p, c);
    }

    private static int[] ids(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void anOutcomeScoreIsTheScalarHeadAtTheLastToken() throws Exception {
        outcomeScores(TinyModels.config(0), "rm");
    }

    /** A reward model with one key/value head, rotary or ALiBi positions and a window scores as its own forward. */
    @Test
    void aRewardModelWithTheAttentionSettingsOfStep6ScoresAsItsForward() throws Exception {
        outcomeScores(TinyModels.config(0).toBuilder().kvHeads(1).positions(ModelConfig.Positions.ROPE).window(8)
                .build(), "rm-rope");
        outcomeScores(TinyModels.config(0).toBuilder().kvHeads(1).positions(ModelConfig.Positions.ALIBI).build(),
                "rm-alibi");
        // the same with the other kernels of the distribution, which the folder's config.json names
        for (String kernel : List.of("mha-fast", "sliding-window")) {
            outcomeScores(TinyModels.config(0).toBuilder().kvHeads(1).positions(ModelConfig.Positions.ROPE)
                    .window(5).attention(kernel).build(), "rm-rope-" + kernel);
            outcomeScores(TinyModels.config(0).toBuilder().positions(ModelConfig.Positions.ALIBI).window(3)
                    .attention(kernel).build(), "rm-alibi-" + kernel);
        }
    }

    private void outcomeScores(ModelConfig config, String name) throws Exception {
        Path folder = TinyModels.write(dir.resolve(name), config, 11);
        Map<String, TensorData> weights = TinyModels.weights(config, 11);
        try (LearnedRewardModel rm = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            RewardScores a = rm.score(BATCH);
            RewardScores b = rm.score(BATCH);
            assertArrayEquals(a.scores(), b.scores(), "the same batch scores the same");
            assertTrue(a.steps().isEmpty());
            float[] single = rm.score(List.of(BATCH.get(3))).scores();
            assertEquals(a.scores()[3], single[0], 1e-5, "padding in a batch does not change a score");

            double maxDiff = 0;
            List<Double> expected = new ArrayList<>();
            for (int i = 0; i < BATCH.size(); i++) {
                List<Integer> seq = outcomeSequence(BATCH.get(i));
                Map<String, TensorData> params = new java.util.HashMap<>();
                double[][] h = hidden(config, weights, ids(seq), params);
                float[] w = params.get("reward.score_head.weight").values();
                double ref = params.get("reward.score_head.bias").values()[0];
                for (int k = 0; k < w.length; k++) {
                    ref += h[h.length - 1][k] * w[k];
                }
                expected.add(ref);
                maxDiff = Math.max(maxDiff, Math.abs(ref - a.scores()[i]));
            }
            System.out.printf("outcome scores %s vs reference %s: max |diff| %.3g%n",
                    java.util.Arrays.toString(a.scores()), expected, maxDiff);
            assertTrue(maxDiff < 1e-4, "max |score - reference| = " + maxDiff);
            assertNotEquals(a.scores()[0], a.scores()[1], "different texts score differently");

            // token ids give the same scores as text
            assertArrayEquals(a.scores(), scoreTokens(rm, BATCH).scores(), 1e-5f);
        }
    }

    @Test
    void aLikelihoodScoreAddsTheModelsMeanLogProbabilityOfTheCompletion() throws Exception {
        ModelConfig config = TinyModels.config(0).toBuilder().scoreLikelihood(true).build();
        Path folder = TinyModels.write(dir.resolve("rm"), config, 13);
        Map<String, TensorData> weights = TinyModels.weights(config, 13);
        try (LearnedRewardModel rm = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            assertTrue(rm.config().scoreLikelihood(), "read back from config.json");
            RewardScores a = rm.score(BATCH);
            double maxDiff = 0;
            for (int i = 0; i < BATCH.size(); i++) {
                List<Integer> seq = outcomeSequence(BATCH.get(i));
                int completionStart = 1 + TinyModels.TOKENIZER.encode(BATCH.get(i).prompt()).length;
                Map<String, TensorData> params = new java.util.HashMap<>();
                double[][] h = hidden(config, weights, ids(seq), params);
                float[] w = params.get("reward.score_head.weight").values();
                float[] emb = params.get("reward.tok_emb.weight").values(); // [V, d], tied: the LM head
                int d = config.dModel();
                int v = config.vocabSize();
                double ref = params.get("reward.score_head.bias").values()[0];
                for (int k = 0; k < d; k++) {
                    ref += h[h.length - 1][k] * w[k];
                }
                // mean over the completion's tokens and the final <eos> of log softmax(h[j - 1] E^T)[token j]
                double sum = 0;
                for (int j = completionStart; j < seq.size(); j++) {
                    sum += logProb(h[j - 1], emb, v, seq.get(j));
                }
                ref += sum / (seq.size() - completionStart);
                maxDiff = Math.max(maxDiff, Math.abs(ref - a.scores()[i]));
            }
            System.out.printf("likelihood scores %s: max |diff| to the double-precision reference %.3g%n",
                    java.util.Arrays.toString(a.scores()), maxDiff);
            assertTrue(maxDiff < 1e-4, "max |score - reference| = " + maxDiff);
            float[] single = rm.score(List.of(BATCH.get(2))).scores();
            assertEquals(a.scores()[2], single[0], 1e-5, "padding in a batch does not change a score");
            assertArrayEquals(a.scores(), scoreTokens(rm, BATCH).scores(), 1e-5f);
        }
    }

    @Test
    void aReferenceLikelihoodScoreAddsTheWeightedLowestAndMeanProbabilityOfTheFrozenModel() throws Exception {
        ModelConfig plain = TinyModels.config(0);
        ModelConfig config = plain.toBuilder().scoreLikelihood(true).likelihoodReference(true).build();
        Map<String, TensorData> weights = new java.util.HashMap<>(TinyModels.weights(config, 13));
        assertEquals(List.of(1f, 1f), List.of(weights.get("reward.score_head.likelihood").values()[0],
                weights.get("reward.score_head.likelihood").values()[1]), "seeded as the prior +1, +1");
        weights.put("reward.score_head.likelihood", new TensorData(new long[] {2}, new float[] {0.7f, -0.4f}));
        Path folder = TinyModels.write(dir.resolve("rmref"), config, weights);
        IOException missing = assertThrows(IOException.class, () -> new LearnedRewardModel(folder, TinyModels.PARTS));
        assertTrue(missing.getMessage().contains("reference/config.json"), missing.getMessage());
        Map<String, TensorData> refWeights = TinyModels.weights(plain, 21); // another model than the reward model's
        TinyModels.write(folder.resolve("reference"), plain, refWeights);
        try (LearnedRewardModel rm = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            RewardScores a = rm.score(BATCH);
            double maxDiff = 0;
            for (int i = 0; i < BATCH.size(); i++) {
                List<Integer> seq = outcomeSequence(BATCH.get(i));
                int completionStart = 1 + TinyModels.TOKENIZER.encode(BATCH.get(i).prompt()).length;
                Map<String, TensorData> params = new java.util.HashMap<>();
                double[][] h = hidden(config, weights, ids(seq), params);
                Map<String, TensorData> refParams = new java.util.HashMap<>();
                double[][] rh = hidden(plain, refWeights, ids(seq), refParams);
                float[] w = params.get("reward.score_head.weight").values();
                float[] emb = refParams.get("reward.tok_emb.weight").values(); // the reference's LM head
                double ref = params.get("reward.score_head.bias").values()[0];
                for (int k = 0; k < config.dModel(); k++) {
                    ref += h[h.length - 1][k] * w[k];
                }
                double sum = 0; // of probabilities
                double lo = 1;
                for (int j = completionStart; j < seq.size(); j++) {
                    double p = Math.exp(logProb(rh[j - 1], emb, config.vocabSize(), seq.get(j)));
                    sum += p;
                    lo = Math.min(lo, p);
                }
                ref += 0.7 * lo - 0.4 * sum / (seq.size() - completionStart);
                maxDiff = Math.max(maxDiff, Math.abs(ref - a.scores()[i]));
            }
            System.out.printf("reference likelihood scores %s: max |diff| to the double-precision reference %.3g%n",
                    java.util.Arrays.toString(a.scores()), maxDiff);
            assertTrue(maxDiff < 1e-4, "max |score - reference| = " + maxDiff);
            assertArrayEquals(a.scores(), scoreTokens(rm, BATCH).scores(), 1e-5f);
        }
    }

    @Test
    void aProcessModelScoresEachStepAtItsSeparator() throws Exception {
        processScores(3);
    }

    @Test
    void aOneLogitProcessModelReadsThatLogit() throws Exception {
        processScores(1, false);
    }

    @Test
    void aProcessModelWithLikelihoodAddsEachStepsWeightedLogProbabilities() throws Exception {
        processScores(3, true);
    }

    @Test
    void aProcessModelWithAReferenceEndsStepsAtNewlinesAndAddsTheFrozenModelsLogProbabilities() throws Exception {
        processScores(3, true, true);
    }

    private void processScores(int classes) throws Exception {
        processScores(classes, false, false);
    }

    private void processScores(int classes, boolean likelihood) throws Exception {
        processScores(classes, likelihood, false);
    }

    @Test
    void aStepCreditModelScoresTheExpectedNumberOfRightStepsBeforeTheFirstWrongOne() throws Exception {
        processScores(1, true, true, true);
    }

    private void processScores(int classes, boolean likelihood, boolean withReference) throws Exception {
        processScores(classes, likelihood, withReference, false);
    }

    private void processScores(int classes, boolean likelihood, boolean withReference, boolean credit)
            throws Exception {
        ModelConfig plain = TinyModels.config(0);
        ModelConfig config = TinyModels.config(classes).toBuilder().scoreLikelihood(likelihood)
                .likelihoodReference(withReference).stepCredit(credit).build();
        Map<String, TensorData> weights = new java.util.HashMap<>(TinyModels.weights(config, 5));
        Map<String, TensorData> refWeights = withReference ? TinyModels.weights(plain, 17) : weights;
        if (likelihood) { // seeded as 0 (with a reference, the prior): give the weights other values that matter
            float[] seeded = weights.get("reward.cls_head.likelihood").values();
            assertArrayEquals(!withReference ? new float[2 * classes] : classes == 1 ? new float[] {1, 1}
                    : new float[] {1, 0, -1, 1, 0, -1}, seeded, "with a reference, the prior: likely is correct");
            assertEquals(config.parameterCount(), weights.entrySet().stream().filter(e -> !e.getKey().contains(
                    "score_head")).mapToLong(e -> e.getValue().values().length).sum(), "parameter count");
            float[] lik = new float[2 * classes];
            for (int k = 0; k < lik.length; k++) {
                lik[k] = 0.3f * (k + 1) * (k % 2 == 0 ? 1 : -1);
            }
            weights.put("reward.cls_head.likelihood", new TensorData(new long[] {2, classes}, lik));
        }
        Path folder = TinyModels.write(dir.resolve("prm" + classes + likelihood + withReference + credit), config,
                weights);
        if (withReference) {
            TinyModels.write(folder.resolve("reference"), plain, refWeights);
        }
        int sep = withReference ? TinyModels.TOKENIZER.encode("\n")[0]
                : TinyModels.TOKENIZER.specialTokens().id(SpecialTokens.STEP).orElseThrow();
        try (LearnedRewardModel rm = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            RewardScores r = rm.score(BATCH);
            List<float[]> steps = r.steps().orElseThrow();
            int[] counts = {2, 1, 1, 3};
            double maxDiff = 0;
            for (int i = 0; i < BATCH.size(); i++) {
                assertEquals(counts[i], steps.get(i).length, "steps of element " + i);
                List<String> lines = PromptCompletion.steps(BATCH.get(i).completion());
                List<Integer> seq = new ArrayList<>();
                List<Integer> at = new ArrayList<>();
                seq.add(TinyModels.TOKENIZER.eosId());
                for (int id : TinyModels.TOKENIZER.encode(BATCH.get(i).prompt())) {
                    seq.add(id);
                }
                for (String line : lines) {
                    for (int id : TinyModels.TOKENIZER.encode(line)) {
                        seq.add(id);
                    }
                    at.add(seq.size());
                    seq.add(sep);
                }
                Map<String, TensorData> params = new java.util.HashMap<>();
                double[][] h = hidden(config, weights, ids(seq), params);
                Map<String, TensorData> refParams = new java.util.HashMap<>();
                double[][] lh = withReference ? hidden(plain, refWeights, ids(seq), refParams) : h;
                float[] emb = (withReference ? refParams : params).get("reward.tok_emb.weight").values();
                float[] w = params.get("reward.cls_head.weight").values(); // [d, C] row-major
                float[] bias = params.get("reward.cls_head.bias").values(); // [C]
                double min = 1;
                double allRight = 1;
                double expected = 0; // step credit: sum over steps of P(every step so far is right)
                for (int j = 0; j < at.size(); j++) {
                    double[] logit = new double[classes];
                    for (int cl = 0; cl < classes; cl++) {
                        logit[cl] = bias[cl];
                        for (int k = 0; k < config.dModel(); k++) {
                            logit[cl] += h[at.get(j)][k] * w[k * classes + cl];
                        }
                    }
                    if (likelihood) { // + [min, mean] of log p(token) over the step's tokens, @ [2, C]
                        int from = j == 0 ? 1 + TinyModels.TOKENIZER.encode(BATCH.get(i).prompt()).length
                                : at.get(j - 1) + 1;
                        double lo = 0;
                        double sum = 0;
                        for (int t = from; t < at.get(j); t++) {
                            double lp = logProb(lh[t - 1], emb, config.vocabSize(), seq.get(t));
                            lo = Math.min(lo, lp);
                            sum += lp;
                        }
                        double mean = at.get(j) > from ? sum / (at.get(j) - from) : 0;
                        if (withReference) { // probabilities: min p = exp(min log p); a step without tokens: 1, 1
                            double sumP = 0;
                            for (int t = from; t < at.get(j); t++) {
                                sumP += Math.exp(logProb(lh[t - 1], emb, config.vocabSize(), seq.get(t)));
                            }
                            lo = Math.exp(lo);
                            mean = at.get(j) > from ? sumP / (at.get(j) - from) : 1;
                            if (credit) { // log-odds
                                lo = logOdds(lo);
                                mean = logOdds(mean);
                            }
                        }
                        float[] lik = params.get("reward.cls_head.likelihood").values();
                        for (int cl = 0; cl < classes; cl++) {
                            logit[cl] += lo * lik[cl] + mean * lik[classes + cl];
                        }
                    }
                    double z = classes == 1 ? logit[0] : logit[0] - logit[classes - 1];
                    double p = 1 / (1 + Math.exp(-z));
                    min = Math.min(min, p);
                    allRight *= p;
                    expected += allRight;
                    maxDiff = Math.max(maxDiff, Math.abs(p - steps.get(i)[j]));
                }
                if (credit) {
                    assertEquals(expected, r.scores()[i], 1e-5, "the outcome is the expected credit");
                } else {
                    assertEquals(min, r.scores()[i], 1e-5, "the outcome is the lowest step score");
                }
            }
            System.out.printf("process step scores (%d classes%s) vs reference: max |diff| %.3g%n", classes,
                (credit ? ", step credit" : "") + (withReference ? ", likelihood reference" : likelihood
                        ? ", likelihood" : ""), maxDiff);
            assertTrue(maxDiff < 1e-5, "max |step score - reference| = " + maxDiff);
        }
    }

    @Test
    void aFolderWithoutItsFilesIsRefusedSayingWhatIsMissing() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> new LearnedRewardModel(folder, TinyModels.PARTS));
        assertEquals(folder + ": no config.json in the reward-model folder (it holds config.json, model.safetensors,"
                + " tokenizer.json, as a reward stage writes them to <workdir>/stage-<i>-reward/model)",
                e.getMessage());
    }

    @Test
    void stepsAreLines() {
        assertEquals(List.of(""), PromptCompletion.steps(""));
        assertEquals(List.of("a"), PromptCompletion.steps("a\n"));
        assertEquals(List.of("a", "", "b"), PromptCompletion.steps("a\n\nb"));
    }
}
