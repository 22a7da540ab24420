package org.align4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.pipeline.Settings;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * {@code precision: bf16}: the dense projections multiply bfloat16 copies and return float32, the weights and their
 * gradients stay float32, the logits stay within bfloat16's rounding of the float32 model's, and the model trains.
 */
class MixedPrecisionTest {
    private static final ModelConfig FP32 = ModelConfig.builder().vocabSize(11).layers(2).dModel(16).heads(2)
            .context(8).tieEmbeddings(false).build();
    private static final ModelConfig BF16 = FP32.toBuilder().precision(ModelConfig.Precision.BF16).build();
    private static final int[][] TOKENS = {{1, 4, 2, 9, 3, 7}, {10, 0, 5, 5, 8, 6}};

    @Test
    void thePipelineKeyIsReadAndAnUnknownPrecisionIsNamed() {
        ModelConfig c = ModelConfig.from(Settings.of("p.yaml", Map.of("precision", "bf16")), 11);
        assertEquals(ModelConfig.Precision.BF16, c.precision());
        assertTrue(c.toString().contains("precision=BF16"), c.toString());
        assertEquals(ModelConfig.Precision.FP32, ModelConfig.from(Settings.of("p.yaml", Map.of()), 11).precision());
        assertTrue(!FP32.toString().contains("precision"), "fp32 configurations print as before: " + FP32);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.from(Settings.of("p.yaml", Map.of("precision", "fp16")), 11));
        assertTrue(e.getMessage().contains("precision") && e.getMessage().contains("fp16"), e.getMessage());
    }

    @Test
    void theBf16ModelMatchesTheFp32OneWithinBfloat16Rounding() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Transformer full = new TransformerFactoryImpl().create(tf, "full.", FP32, new TestAttention(8));
            Transformer half = new TransformerFactoryImpl().create(tf, "half.", BF16, new TestAttention(8));
            Placeholder<TInt32> tok = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
            Operand<TFloat32> a = full.lmLogits(tf, full.hidden(tf, tok, null)); // [B, T, V]
            Operand<TFloat32> b = half.lmLogits(tf, half.hidden(tf, tok, null)); // [B, T, V]
            int bf16Products = 0;
            for (java.util.Iterator<GraphOperation> it = g.operations(); it.hasNext();) {
                GraphOperation op = it.next();
                if (op.type().equals("MatMul")) {
                    boolean bf16 = op.output(0).dataType() == DataType.DT_BFLOAT16;
                    assertEquals(op.name().startsWith("half") || !bf16, true, op.name());
                    bf16Products += bf16 ? 1 : 0;
                }
            }
            assertEquals(2 * 6 + 1, bf16Products, "q, k, v, o, fc, proj per block and the LM head");
            try (Session s = new Session(g); TInt32 tt = Tensors.ints(TOKENS)) {
                full.initialize(s, 3);
                Map<String, TensorData> w = full.read(s);
                Map<String, TensorData> renamed = new java.util.LinkedHashMap<>();
                w.forEach((k, v) -> renamed.put("half." + k.substring("full.".length()), v));
                half.assign(s, renamed, false);
                try (Result r = s.runner().feed(tok, tt).fetch(a).fetch(b).run()) {
                    float[] x = values((TFloat32) r.get(0));
                    float[] y = values((TFloat32) r.get(1));
                    double num = 0;
                    double den = 0;
                    double maxDiff = 0;
                    for (int i = 0; i < x.length; i++) {
                        num += (x[i] - y[i]) * (double) (x[i] - y[i]);
                        den += x[i] * (double) x[i];
                        maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
                    }
                    double rel = Math.sqrt(num / den);
                    // bfloat16 keeps 8 significant bits: 2^-9 relative per rounding, a few roundings deep
                    assertTrue(rel < 3e-2, "relative error of the bf16 logits: " + rel);
                    assertTrue(maxDiff > 0, "the bf16 model computed in bfloat16, not float32");
                }
            }
        }
    }

    @Test
    void theBf16ModelTrainsWithFloat32WeightsAndGradients() {
        float[] loss = TrainingGraphTest.sgdOnOneBatch(BF16, (trained, grads) -> {
            for (int i = 0; i < trained.size(); i++) {
                Parameter p = trained.get(i);
                assertEquals(DataType.DT_FLOAT, grads[i].dataType(), "gradient of " + p.name());
                // the master weights: float32 variables
                assertEquals(DataType.DT_FLOAT_REF, ((GraphOperation) p.variable().op()).output(0).dataType(),
                        p.name());
            }
        });
        assertEquals(Math.log(11), loss[0], 0.1, "an initial model predicts about uniformly");
        assertTrue(loss[1] < 0.25 * loss[0], "SGD on one batch in bf16: loss " + loss[0] + " -> " + loss[1]);
    }

    private static float[] values(TFloat32 t) {
        float[] out = new float[(int) t.shape().size()];
        t.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(out, false, false));
        return out;
    }
}
