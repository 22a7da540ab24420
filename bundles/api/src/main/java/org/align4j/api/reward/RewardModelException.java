package org.align4j.api.reward;

import java.util.Optional;

/**
 * A leased reward-model call failed: no service of that name (the message lists the registered ones), or the
 * service threw, timed out, or returned a NaN or infinite score, on every attempt. The message names the model
 * ({@code name version [bundle]}) and what happened, e.g. {@code reward model rm 2 [org.acme.rm]: timed out after
 * 30 s (3 attempts)}.
 */
public class RewardModelException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient RewardModelInfo model;

    public RewardModelException(String message, RewardModelInfo model, Throwable cause) {
        super(message, cause);
        this.model = model;
    }

    public RewardModelException(String message) {
        this(message, null, null);
    }

    /** The service of the last failed attempt; empty when no service was found. */
    public Optional<RewardModelInfo> model() {
        return Optional.ofNullable(model);
    }
}
