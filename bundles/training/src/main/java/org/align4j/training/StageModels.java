package org.align4j.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.WeightStore;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.train.TrainingContext;

/** The configuration of a stage's trained model, from its {@code init:} folder or from the run's model section. */
public final class StageModels {
    private StageModels() {
    }

    /**
     * The configuration the stage's policy is built with. With {@code init:}, the folder's {@code config.json}, after
     * checking that the folder's model fits the run: the attention kernel the stage binds ({@code model.attention})
     * is the one it was trained with, and its {@code tokenizer.json} (when it has one) is the run's tokenizer. Without
     * {@code init:}, the run's {@code model:} section (with the stage's overrides) and the tokenizer's vocabulary.
     *
     * @throws IllegalStateException saying what differs and what to do
     */
    public static ModelConfig policyConfig(TrainingContext ctx, WeightStore weights) throws IOException {
        return config(ctx, weights, ctx.init());
    }

    /**
     * Like {@link #policyConfig}, for a model that starts from {@code init} (e.g. the stage's
     * {@code init: { reward: stage-1 }}, or its plain {@code init:}).
     */
    public static ModelConfig config(TrainingContext ctx, WeightStore weights, Optional<Path> init)
            throws IOException {
        Tokenizer tokenizer = ctx.tokenizer();
        if (init.isEmpty()) {
            ModelConfig c = ModelConfig.from(ctx.model(), tokenizer.vocabSize());
            if (c.vocabSize() < tokenizer.vocabSize()) {
                throw ctx.model().error("vocab_size", "is " + c.vocabSize() + " but the tokenizer has "
                        + tokenizer.vocabSize() + " tokens");
            }
            return c;
        }
        Path folder = init.get();
        Path configFile = folder.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalStateException(folder + ": no config.json; init: names a model folder as a stage writes"
                    + " it (<stage>/model) or an earlier stage (init: stage-0)");
        }
        ModelConfig c = weights.loadConfig(configFile);
        String bound = ctx.model().getString("attention", "mha");
        if (!c.attention().equals(bound)) {
            throw new IllegalStateException(folder + " was trained with attention kernel \"" + c.attention()
                    + "\" but this stage binds \"" + bound + "\"; set model.attention: " + c.attention()
                    + " (in the stage's model: section or the run's)");
        }
        if (c.vocabSize() < tokenizer.vocabSize()) {
            throw new IllegalStateException(folder + ": the model has " + c.vocabSize() + " token ids but the run's"
                    + " tokenizer has " + tokenizer.vocabSize() + "; start from a model trained with this tokenizer");
        }
        Path theirs = folder.resolve("tokenizer.json");
        if (Files.isRegularFile(theirs)) {
            Path ours = Files.createTempFile(ctx.workDir(), "tokenizer", ".json");
            try {
                tokenizer.save(ours);
                if (!Arrays.equals(Files.readAllBytes(theirs), Files.readAllBytes(ours))) {
                    throw new IllegalStateException(folder + " was trained with another tokenizer (its tokenizer.json"
                            + " differs from the run's); to go on from it, copy " + theirs + " to the run's workdir as"
                            + " tokenizer.json before the run trains one");
                }
            } finally {
                Files.deleteIfExists(ours);
            }
        }
        return c;
    }
}
