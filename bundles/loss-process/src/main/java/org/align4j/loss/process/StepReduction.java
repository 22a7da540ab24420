package org.align4j.loss.process;

import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.loss.LossResult;
import org.align4j.api.loss.StepLabel;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The parts every process loss shares: the mean over the steps that count, the metrics, the last-step mask of
 * outcome supervision, and a stable {@code softplus}.
 *
 * <pre>
 * loss                = sum(weight * nll) / max(sum(weight), 1)        0 for a batch with no step that counts
 * step_accuracy       = sum(weight * [predicted == target]) / max(sum(weight), 1)
 * num_steps           = sum(weight)
 * incorrect_precision = #(predicted incorrect and labelled incorrect) / max(#(predicted incorrect), 1)
 * incorrect_recall    = #(predicted incorrect and labelled incorrect) / max(#(labelled incorrect), 1)
 * </pre>
 *
 * The counts are weighted the same way; "incorrect" is {@link StepLabel#INCORRECT} (after the {@code neutral} mapping
 * of the two-class losses), the class a process reward model exists to find. A ratio with nothing to count is 0.
 */
final class StepReduction {
    static final String STEP_ACCURACY = "step_accuracy";
    static final String NUM_STEPS = "num_steps";
    static final String INCORRECT_PRECISION = "incorrect_precision";
    static final String INCORRECT_RECALL = "incorrect_recall";

    private StepReduction() {
    }

    static LossResult reduce(Ops tf, StepTerms steps) {
        Operand<TInt32> all = tf.constant(new int[] {0, 1});
        Operand<TFloat32> one = tf.constant(1f);
        Operand<TFloat32> w = steps.weight(); // [B, S]
        Operand<TFloat32> count = tf.reduceSum(w, all); // []
        Operand<TFloat32> denominator = tf.math.maximum(count, one); // []
        Operand<TFloat32> loss = tf.math.div(tf.reduceSum(tf.math.mul(w, steps.nll()), all), denominator); // []

        Operand<TFloat32> hit = asFloat(tf, tf.math.equal(steps.predicted(), steps.target())); // [B, S]
        Operand<TInt32> incorrect = tf.constant(StepLabel.INCORRECT);
        Operand<TFloat32> predictedIncorrect = tf.math.mul(w,
                asFloat(tf, tf.math.equal(steps.predicted(), incorrect))); // [B, S]
        Operand<TFloat32> labelledIncorrect = tf.math.mul(w,
                asFloat(tf, tf.math.equal(steps.target(), incorrect))); // [B, S]
        Operand<TFloat32> truePositives = tf.reduceSum(tf.math.mul(predictedIncorrect, labelledIncorrect), all); // []

        Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
        metrics.put(STEP_ACCURACY, tf.math.div(tf.reduceSum(tf.math.mul(w, hit), all), denominator)); // []
        metrics.put(NUM_STEPS, count); // []
        metrics.put(INCORRECT_PRECISION, tf.math.div(truePositives,
                tf.math.maximum(tf.reduceSum(predictedIncorrect, all), one))); // []
        metrics.put(INCORRECT_RECALL, tf.math.div(truePositives,
                tf.math.maximum(tf.reduceSum(labelledIncorrect, all), one))); // []
        return LossResult.of(loss, metrics);
    }

    /**
     * The mask of the last real step of each sequence: {@code stepMask} where {@code s} is the largest index with
     * {@code stepMask[b, s] > 0}, 0 elsewhere; an all-padding row stays all 0.
     */
    static Operand<TFloat32> lastStepMask(Ops tf, Operand<TFloat32> stepMask) {
        Operand<TFloat32> real = asFloat(tf, tf.math.greater(stepMask, tf.constant(0f))); // [B, S]
        Operand<TInt32> steps = tf.gather(tf.shape(stepMask), tf.constant(1), tf.constant(0)); // [] S
        Operand<TFloat32> position = tf.dtypes.cast(
                tf.range(tf.constant(1), tf.math.add(steps, tf.constant(1)), tf.constant(1)), TFloat32.class); // [S]
        Operand<TFloat32> scored = tf.math.mul(real, position); // [B, S] 1-based index of real steps, 0 at padding
        Operand<TFloat32> last = tf.max(scored, tf.constant(1), Max.keepDims(true)); // [B, 1]
        return tf.math.mul(stepMask, asFloat(tf, tf.math.equal(scored, last))); // [B, S]
    }

    /**
     * {@code softplus(x) = log(1 + exp(x)) = -log sigmoid(-x)}, as {@code m + log1p(exp(x - 2m))} with
     * {@code m = max(x, 0)}: never overflows, keeps full relative precision for very negative {@code x}, and its
     * gradient is {@code sigmoid(x)} at {@code x = 0} too, whichever side Maximum's gradient gives the tie to
     * ({@code d/dx = m' + (1 - 2m') / 2 = 1/2} for any {@code m'}), which the {@code |x|} form gets wrong.
     */
    static Operand<TFloat32> softplus(Ops tf, Operand<TFloat32> x) {
        Operand<TFloat32> m = tf.math.maximum(x, tf.constant(0f)); // same shape as x
        Operand<TFloat32> negAbs = tf.math.sub(x, tf.math.mul(tf.constant(2f), m)); // -|x|
        return tf.math.add(m, tf.math.log1p(tf.math.exp(negAbs)));
    }

    /**
     * The two-class terms from a correctness logit {@code z} {@code [B, S]} (positive = correct), with neutral steps
     * mapped by {@code neutral}:
     *
     * <pre>
     * nll = -log sigmoid(z)  = softplus(-z)   for a step labelled correct
     *       -log sigmoid(-z) = softplus(z)    for a step labelled incorrect
     * </pre>
     */
    static StepTerms twoClass(Ops tf, Operand<TFloat32> z, Operand<TInt32> labels, Operand<TFloat32> stepMask,
            Neutral neutral) {
        Operand<TFloat32> isIncorrect = asFloat(tf, tf.math.equal(labels, tf.constant(StepLabel.INCORRECT))); // [B, S]
        Operand<TFloat32> isNeutral = asFloat(tf, tf.math.equal(labels, tf.constant(StepLabel.NEUTRAL))); // [B, S]
        Operand<TFloat32> incorrect = neutral == Neutral.INCORRECT ? tf.math.add(isIncorrect, isNeutral)
                : isIncorrect; // [B, S] 1 where the target is "incorrect"
        Operand<TFloat32> weight = neutral == Neutral.IGNORE
                ? tf.math.mul(stepMask, tf.math.sub(tf.constant(1f), isNeutral))
                : stepMask; // [B, S]
        Operand<TFloat32> sign = tf.math.sub(tf.math.mul(tf.constant(2f), incorrect), tf.constant(1f)); // [B, S] +-1
        Operand<TFloat32> nll = softplus(tf, tf.math.mul(sign, z)); // [B, S]
        Operand<TInt32> target = classOf(tf, incorrect); // [B, S]
        Operand<TInt32> predicted = classOf(tf, asFloat(tf, tf.math.less(z, tf.constant(0f)))); // [B, S]
        return new StepTerms(nll, weight, predicted, target);
    }

    /** {@link StepLabel#INCORRECT} where {@code incorrect} is 1, {@link StepLabel#CORRECT} where it is 0. */
    private static Operand<TInt32> classOf(Ops tf, Operand<TFloat32> incorrect) {
        return tf.math.add(tf.constant(StepLabel.CORRECT), tf.math.mul(tf.dtypes.cast(incorrect, TInt32.class),
                tf.constant(StepLabel.INCORRECT - StepLabel.CORRECT)));
    }

    static Operand<TFloat32> asFloat(Ops tf, Operand<TBool> condition) {
        return tf.dtypes.cast(condition, TFloat32.class);
    }

    /**
     * The number of classes {@code C} when it is known at build time, else -1; fails when the logits' rank is known
     * and is not 3.
     */
    static long classes(String loss, Operand<TFloat32> stepLogits) {
        Shape s = stepLogits.shape();
        if (s.isUnknown()) {
            return -1;
        }
        if (s.numDimensions() != 3) {
            throw new IllegalArgumentException(loss + " loss: stepLogits have shape " + s
                    + "; expected [B, S, C], one row of class scores per step");
        }
        return s.size(2);
    }

    /** Fails when {@code C} is known and not one of {@code accepted}. */
    static void requireClasses(String loss, Operand<TFloat32> stepLogits, String meaning, long... accepted) {
        long c = classes(loss, stepLogits);
        if (c < 0) {
            return;
        }
        for (long a : accepted) {
            if (a == c) {
                return;
            }
        }
        throw new IllegalArgumentException(loss + " loss: stepLogits have shape " + stepLogits.shape() + " (C = "
                + c + "); this loss takes " + meaning + " (step-cross-entropy: 3 logits, step-binary: 2 or 3, "
                + "step-single-logit: 1)");
    }

    /** {@code [-1]}, for flattening. */
    static Operand<TInt32> flat(Ops tf) {
        return tf.constant(new int[] {-1});
    }
}
