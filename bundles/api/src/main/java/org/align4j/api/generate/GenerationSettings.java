package org.align4j.api.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * How to generate. Defaults: 64 new tokens, temperature 1, no top-k (0), no top-p (1), no repetition penalty (1), one
 * sample per prompt, seed 0, no stop token, no stop string, the KV cache on, up to 64 rows per batch.
 *
 * <p>Each step, per row: the repetition penalty divides the positive logits and multiplies the negative ones of every
 * token already in the row (prompt included; CTRL's rule, as Hugging Face applies it); temperature 0 then takes the
 * largest logit (the lowest id on a tie); otherwise the logits are divided by the temperature, all but the
 * {@code topK} largest are dropped (ties with the k-th kept), the softmax is taken, the smallest set of most probable
 * tokens whose probabilities sum to at least {@code topP} is kept (ties kept), and a token is drawn from what is left.
 *
 * <p><b>Reproducible:</b> sampling runs in Java (double precision, {@code StrictMath}) from a
 * {@link java.util.SplittableRandom} seeded from {@code seed}, the prompt's index and the sample's index, so equal
 * logits give equal tokens on every machine whatever the batch size. The logits themselves come from TensorFlow,
 * whose float rounding may differ between CPUs and thread counts.
 *
 * <p><b>Stop strings</b> need a {@link #decoder()} (ids to text, e.g. {@code tokenizer::decode}): after each token the
 * row's new tokens are decoded and the row stops once the text contains a stop string. Trimming the text at the stop
 * string is the caller's business, as is decoding.
 */
public final class GenerationSettings {
    private final int maxNewTokens;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final double repetitionPenalty;
    private final int samples;
    private final long seed;
    private final int[] stopTokens;
    private final List<String> stopStrings;
    private final Function<int[], String> decoder;
    private final boolean cache;
    private final int maxBatch;

    private GenerationSettings(Builder b) {
        this.maxNewTokens = b.maxNewTokens;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.repetitionPenalty = b.repetitionPenalty;
        this.samples = b.samples;
        this.seed = b.seed;
        this.stopTokens = b.stopTokens.clone();
        this.stopStrings = List.copyOf(b.stopStrings);
        this.decoder = b.decoder;
        this.cache = b.cache;
        this.maxBatch = b.maxBatch;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Greedy decoding (temperature 0) of up to {@code maxNewTokens} tokens. */
    public static GenerationSettings greedy(int maxNewTokens) {
        return builder().temperature(0).maxNewTokens(maxNewTokens).build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.repetitionPenalty = repetitionPenalty;
        b.samples = samples;
        b.seed = seed;
        b.stopTokens = stopTokens.clone();
        b.stopStrings = stopStrings;
        b.decoder = decoder;
        b.cache = cache;
        b.maxBatch = maxBatch;
        return b;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** 0 is greedy. */
    public double temperature() {
        return temperature;
    }

    /** 0 keeps every token. */
    public int topK() {
        return topK;
    }

    /** 1 keeps every token. */
    public double topP() {
        return topP;
    }

    /** 1 is none. */
    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    /** Samples per prompt. */
    public int samples() {
        return samples;
    }

    public long seed() {
        return seed;
    }

    public int[] stopTokens() {
        return stopTokens.clone();
    }

    public List<String> stopStrings() {
        return stopStrings;
    }

    /** Ids to text, for stop strings; {@code null} when there are none. */
    public Function<int[], String> decoder() {
        return decoder;
    }

    /**
     * Whether the KV cache is used (the default). Without it every step recomputes the whole prefix: the readable,
     * slow path kept for tests and benchmarks.
     */
    public boolean cache() {
        return cache;
    }

    /** The most rows (prompts times samples) run in one batch. */
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "GenerationSettings{max_new_tokens=%d, temperature=%s, top_k=%d, top_p=%s,"
                + " repetition_penalty=%s, samples=%d, seed=%d, stop_tokens=%s, stop_strings=%d, cache=%s,"
                + " max_batch=%d}", maxNewTokens, temperature, topK, topP, repetitionPenalty, samples, seed,
                Arrays.toString(stopTokens), stopStrings.size(), cache, maxBatch);
    }

    /** Checks each value as it is set: {@code IllegalArgumentException} naming the setting and the range. */
    public static final class Builder {
        private int maxNewTokens = 64;
        private double temperature = 1;
        private int topK;
        private double topP = 1;
        private double repetitionPenalty = 1;
        private int samples = 1;
        private long seed;
        private int[] stopTokens = new int[0];
        private List<String> stopStrings = List.of();
        private Function<int[], String> decoder;
        private boolean cache = true;
        private int maxBatch = 64;

        private Builder() {
        }

        private static IllegalArgumentException bad(String name, Object value, String expected) {
            return new IllegalArgumentException("generation setting " + name + " = " + value + ": expected "
                    + expected);
        }

        public Builder maxNewTokens(int v) {
            if (v < 1) {
                throw bad("max_new_tokens", v, "at least 1");
            }
            maxNewTokens = v;
            return this;
        }

        public Builder temperature(double v) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw bad("temperature", v, "a finite number >= 0 (0 is greedy)");
            }
            temperature = v;
            return this;
        }

        public Builder topK(int v) {
            if (v < 0) {
                throw bad("top_k", v, "an integer >= 0 (0 keeps every token)");
            }
            topK = v;
            return this;
        }

        public Builder topP(double v) {
            if (!(v > 0 && v <= 1)) {
                throw bad("top_p", v, "a number in (0, 1] (1 keeps every token)");
            }
            topP = v;
            return this;
        }

        public Builder repetitionPenalty(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw bad("repetition_penalty", v, "a finite number > 0 (1 is none; 1.1 to 1.3 is usual)");
            }
            repetitionPenalty = v;
            return this;
        }

        public Builder samples(int v) {
            if (v < 1) {
                throw bad("samples", v, "at least 1");
            }
            samples = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder stopTokens(int... ids) {
            for (int id : ids) {
                if (id < 0) {
                    throw bad("stop_tokens", Arrays.toString(ids), "token ids >= 0");
                }
            }
            stopTokens = ids.clone();
            return this;
        }

        /** Stop strings; they need {@link #decoder}. */
        public Builder stopStrings(List<String> v) {
            for (String s : v) {
                if (s == null || s.isEmpty()) {
                    throw bad("stop_strings", v, "non-empty strings");
                }
            }
            stopStrings = List.copyOf(v);
            return this;
        }

        public Builder decoder(Function<int[], String> v) {
            decoder = v;
            return this;
        }

        public Builder cache(boolean v) {
            cache = v;
            return this;
        }

        public Builder maxBatch(int v) {
            if (v < 1) {
                throw bad("max_batch", v, "at least 1");
            }
            maxBatch = v;
            return this;
        }

        public GenerationSettings build() {
            if (!stopStrings.isEmpty() && decoder == null) {
                throw new IllegalArgumentException("generation setting stop_strings = " + stopStrings
                        + ": stop strings need a decoder (ids to text), e.g. .decoder(tokenizer::decode)");
            }
            return new GenerationSettings(this);
        }
    }
}
