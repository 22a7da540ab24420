package org.align4j.api.metrics;

/** Metric names, following TRL's. */
public final class MetricNames {
    public static final String LOSS = "loss";
    public static final String LEARNING_RATE = "learning_rate";
    public static final String GRAD_NORM = "grad_norm";
    public static final String EPOCH = "epoch";
    public static final String NUM_TOKENS = "num_tokens";
    public static final String TOKENS_PER_SECOND = "train_tokens_per_second";
    public static final String STEPS_PER_SECOND = "train_steps_per_second";
    public static final String EVAL_LOSS = "eval_loss";
    public static final String EVAL_PERPLEXITY = "eval_perplexity";
    /** The validation perplexity of the unigram model of the training split, for comparison. */
    public static final String EVAL_UNIGRAM_PERPLEXITY = "eval_unigram_perplexity";
    public static final String PERPLEXITY = "perplexity";

    private MetricNames() {
    }
}
