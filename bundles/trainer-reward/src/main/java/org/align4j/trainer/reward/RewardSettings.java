package org.align4j.trainer.reward;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.ChatTemplate;
import org.align4j.training.LoopSettings;

/**
 * The settings of a {@code reward} stage: the loop's keys ({@link LoopSettings}) plus
 *
 * <pre>
 * loss: bradley-terry            # a loss of one of the four families; its family decides the data the stage reads
 * ratings: { min: 1, max: 5 }    # pointwise: ratings are mapped to [-1, 1] from this scale
 * likelihood: false              # true (or self): the score adds the model's own mean log-probability of the
 *                                # completion's tokens to the scalar head; a process model's step logits add learned
 *                                # weights of each step's lowest and mean token log-probability
 *                                # (ModelConfig#scoreLikelihood). reference: those log-probabilities are a frozen
 *                                # copy's of the init: model, saved with the reward model in model/reference/; an
 *                                # outcome model weights the completion's lowest and mean, a process model scores
 *                                # each step at the newline that ends it (ModelConfig#likelihoodReference)
 * score: last-token             # step-credit (pairwise, listwise, pointwise): the completion's lines are its steps,
 *                                # each ended as a process model ends it; a one-logit head scores each, and the
 *                                # score is the expected number of steps right before the first wrong one
 *                                # (ModelConfig#stepCredit); prompt-completion text only
 * chat_template: { ... }         # for conversational examples
 * </pre>
 */
final class RewardSettings {
    /** Whose likelihood a reward model scores with, if any. */
    enum Likelihood { NONE, SELF, REFERENCE }

    final LoopSettings loop;
    final double ratingMin;
    final double ratingMax;
    final ChatTemplate chat;
    final Likelihood likelihood;
    /** {@code score: step-credit}. */
    final boolean stepCredit;

    RewardSettings(Settings s) {
        loop = new LoopSettings(s, "loss", "ratings", "chat_template", "likelihood", "score");
        String score = s.getString("score", "last-token").trim();
        if (!score.equals("last-token") && !score.equals("step-credit")) {
            throw s.error("score", "expected last-token (the scalar head at the completion's end) or step-credit (the"
                    + " expected number of steps right before the first wrong one), got \"" + score + "\"");
        }
        stepCredit = score.equals("step-credit");
        String lik = s.getString("likelihood", "false").trim().toLowerCase(java.util.Locale.ROOT);
        switch (lik) {
        case "false":
            likelihood = Likelihood.NONE;
            break;
        case "true":
        case "self":
            likelihood = Likelihood.SELF;
            break;
        case "reference":
            likelihood = Likelihood.REFERENCE;
            break;
        default:
            throw s.error("likelihood", "expected false, true (or self: the reward model's own) or reference (a"
                    + " frozen copy of the init: model), got \"" + lik + "\"");
        }
        Settings ratings = s.section("ratings").checkKnown("min", "max");
        ratingMin = ratings.getDouble("min", 1.0);
        ratingMax = ratings.getDouble("max", 5.0);
        if (!(ratingMax > ratingMin)) {
            throw ratings.error("max", "must be above ratings.min (" + ratingMin + "), got " + ratingMax);
        }
        chat = s.has("chat_template") ? ChatTemplate.of(s.section("chat_template")) : ChatTemplate.DEFAULT;
    }

    /** A rating mapped from [min, max] to [-1, 1]. */
    double normalise(double rating) {
        return 2 * (rating - ratingMin) / (ratingMax - ratingMin) - 1;
    }
}
