package org.align4j.api.loss;

/**
 * The values of the {@value #PROPERTY} service property: which loss contract a loss service implements.
 */
public final class LossFamily {
    /** Service property naming the family. */
    public static final String PROPERTY = "align4j.family";

    /** {@link LanguageModelLoss}: next-token cross-entropy. */
    public static final String LANGUAGE_MODEL = "lm";
    /** {@link PairwiseLoss}: chosen vs rejected scores (Bradley-Terry). */
    public static final String PAIRWISE = "pairwise";
    /** {@link ListwiseLoss}: K ranked completions per prompt. */
    public static final String LISTWISE = "listwise";
    /** {@link PointwiseLoss}: regression on ratings. */
    public static final String POINTWISE = "pointwise";
    /** {@link ProcessLoss}: step-level correct / neutral / incorrect labels. */
    public static final String PROCESS = "process";
    /** {@link PreferenceLoss}: policy vs reference log-probabilities (DPO and kin). */
    public static final String PREFERENCE = "preference";
    /** {@link PolicyLoss}: policy-gradient objectives (PPO). */
    public static final String POLICY = "policy";

    private LossFamily() {
    }
}
