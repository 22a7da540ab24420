package org.align4j.trainer.ppo;

import java.util.LinkedHashMap;
import java.util.Map;

import org.align4j.api.model.TensorData;

/**
 * One iteration's rollouts as the updates read them, every array {@code [B, T]} row-major, position {@code t} of row
 * {@code b} being the input token {@code t} and the prediction of token {@code t + 1}: inputs, targets, the mask of
 * generated targets, and at those positions the log-probabilities of the policy that generated them, the value
 * model's predictions, the whitened advantages and the value targets. It is what a checkpoint inside an iteration
 * saves, so a run stopped there resumes with the same rollouts.
 */
final class RolloutBuffer {
    final int iteration;
    final int rows;
    final int width;
    final int[] inputs;
    final int[] targets;
    final float[] mask;
    final float[] oldLogProbs;
    final float[] oldValues;
    final float[] advantages;
    final float[] returns;

    RolloutBuffer(int iteration, int rows, int width) {
        this(iteration, rows, width, new int[rows * width], new int[rows * width], new float[rows * width],
                new float[rows * width], new float[rows * width], new float[rows * width], new float[rows * width]);
    }

    private RolloutBuffer(int iteration, int rows, int width, int[] inputs, int[] targets, float[] mask,
            float[] oldLogProbs, float[] oldValues, float[] advantages, float[] returns) {
        this.iteration = iteration;
        this.rows = rows;
        this.width = width;
        this.inputs = inputs;
        this.targets = targets;
        this.mask = mask;
        this.oldLogProbs = oldLogProbs;
        this.oldValues = oldValues;
        this.advantages = advantages;
        this.returns = returns;
    }

    /** The rows {@code idx} of {@code a}, each {@code width} wide. */
    float[] rows(float[] a, int[] idx) {
        float[] out = new float[idx.length * width];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(a, idx[i] * width, out, i * width, width);
        }
        return out;
    }

    int[] rows(int[] a, int[] idx) {
        int[] out = new int[idx.length * width];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(a, idx[i] * width, out, i * width, width);
        }
        return out;
    }

    /** The buffer as checkpoint tensors (ids are below 2^24, exact in float32). */
    Map<String, TensorData> save() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        long[] shape = {rows, width};
        m.put("rollout.iteration", new TensorData(new long[] {1}, new float[] {iteration}));
        m.put("rollout.inputs", new TensorData(shape, floats(inputs)));
        m.put("rollout.targets", new TensorData(shape, floats(targets)));
        m.put("rollout.mask", new TensorData(shape, mask));
        m.put("rollout.old_logprobs", new TensorData(shape, oldLogProbs));
        m.put("rollout.old_values", new TensorData(shape, oldValues));
        m.put("rollout.advantages", new TensorData(shape, advantages));
        m.put("rollout.returns", new TensorData(shape, returns));
        return m;
    }

    /** The buffer {@link #save} wrote, or {@code null} when {@code m} holds none. */
    static RolloutBuffer load(Map<String, TensorData> m) {
        TensorData inputs = m.get("rollout.inputs");
        if (inputs == null) {
            return null;
        }
        long[] shape = inputs.shape();
        return new RolloutBuffer((int) m.get("rollout.iteration").values()[0], (int) shape[0], (int) shape[1],
                ints(inputs.values()), ints(m.get("rollout.targets").values()), m.get("rollout.mask").values(),
                m.get("rollout.old_logprobs").values(), m.get("rollout.old_values").values(),
                m.get("rollout.advantages").values(), m.get("rollout.returns").values());
    }

    private static float[] floats(int[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static int[] ints(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Math.round(a[i]);
        }
        return out;
    }
}
