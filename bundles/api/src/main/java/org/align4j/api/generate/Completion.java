package org.align4j.api.generate;

import java.util.Arrays;
import java.util.Objects;

/** One generated continuation of a prompt: ids only; decoding is the caller's business. */
public final class Completion {

    /** Why generation of a row ended. */
    public enum FinishReason {
        /** A stop token was drawn; it is not part of {@link #tokens()}. */
        STOP_TOKEN,
        /** The decoded tokens contain a stop string; the token that completed it is the last of {@link #tokens()}. */
        STOP_STRING,
        /** {@link GenerationSettings#maxNewTokens()} tokens were generated. */
        MAX_TOKENS,
        /** The row reached the model's context. */
        CONTEXT
    }

    private final int[] tokens;
    private final float[] logProbs;
    private final FinishReason finishReason;

    public Completion(int[] tokens, float[] logProbs, FinishReason finishReason) {
        this.tokens = tokens.clone();
        this.logProbs = logProbs.clone();
        this.finishReason = Objects.requireNonNull(finishReason, "finishReason");
        if (tokens.length != logProbs.length) {
            throw new IllegalArgumentException(tokens.length + " tokens but " + logProbs.length + " log-probs");
        }
    }

    /** The new token ids, without the prompt and without a stop token. */
    public int[] tokens() {
        return tokens.clone();
    }

    /**
     * The model's log-probability of each of {@link #tokens()} at the step it was drawn, from the unmodified
     * distribution (before temperature, top-k, top-p and repetition penalty): what a policy-gradient trainer needs.
     */
    public float[] logProbs() {
        return logProbs.clone();
    }

    public FinishReason finishReason() {
        return finishReason;
    }

    @Override
    public String toString() {
        return "Completion" + Arrays.toString(tokens) + " " + finishReason;
    }
}
