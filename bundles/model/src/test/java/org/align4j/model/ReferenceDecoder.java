package org.align4j.model;

import java.util.HashMap;
import java.util.Map;

import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.ModelConfig.NormPlacement;
import org.align4j.api.model.ModelConfig.NormType;
import org.align4j.api.model.ModelConfig.Positions;
import org.align4j.api.model.TensorData;

/**
 * The whole decoder in double precision, written from the maths with plain loops: the independent reference the
 * graph is checked against. Weights are looked up by the documented local names, matmul weights {@code [in, out]}.
 */
final class ReferenceDecoder {

    final ModelConfig c;
    final Map<String, double[]> w = new HashMap<>();

    /** @param weights as {@code Transformer.read} returns them; {@code prefix} is stripped from the names */
    ReferenceDecoder(ModelConfig c, Map<String, TensorData> weights, String prefix) {
        this.c = c;
        weights.forEach((name, t) -> {
            double[] x = new double[t.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = t.values()[i];
            }
            w.put(name.substring(prefix.length()), x);
        });
    }

    /** Results of one forward pass. */
    static final class Output {
        double[][][] hidden; // [B][T][d]
        double[][][] logits; // [B][T][V]
        double[][] scalar; // [B][T]
        double[][][] classes; // [B][T][C], null when the model has no classification head
    }

    /** @param mask {@code [B][T]} 1/0 or null */
    Output forward(int[][] tokens, float[][] mask) {
        int b = tokens.length;
        int t = tokens[0].length;
        int d = c.dModel();
        double[][][] x = new double[b][t][d];
        double[] pos = c.positions() == Positions.LEARNED ? w.get("pos_emb.weight")
                : c.positions() == Positions.SINUSOIDAL ? sinusoid(t, d) : new double[t * d]; // rope, alibi: none
        double[] emb = w.get("tok_emb.weight");
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < t; p++) {
                for (int e = 0; e < d; e++) {
                    x[i][p][e] = emb[tokens[i][p] * d + e] + pos[p * d + e];
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            String n = "blocks." + l + ".";
            if (c.norm() == NormPlacement.PRE) {
                x = add(x, attention(norm(x, n + "ln_1"), n, mask));
                x = add(x, mlp(norm(x, n + "ln_2"), n));
            } else {
                x = norm(add(x, attention(x, n, mask)), n + "ln_1");
                x = norm(add(x, mlp(x, n)), n + "ln_2");
            }
        }
        if (c.norm() == NormPlacement.PRE) {
            x = norm(x, "ln_f");
        }
        Output out = new Output();
        out.hidden = x;
        int v = c.vocabSize();
        out.logits = new double[b][t][v];
        out.scalar = new double[b][t];
        double[] head = c.tieEmbeddings() ? null : w.get("lm_head.weight");
        double[] sw = w.get("score_head.weight");
        double sb = w.get("score_head.bias")[0];
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < t; p++) {
                for (int k = 0; k < v; k++) {
                    double s = 0;
                    for (int e = 0; e < d; e++) {
                        s += x[i][p][e] * (head == null ? emb[k * d + e] : head[e * v + k]);
                    }
                    out.logits[i][p][k] = s;
                }
                double s = sb;
                for (int e = 0; e < d; e++) {
                    s += x[i][p][e] * sw[e];
                }
                out.scalar[i][p] = s;
            }
        }
        int classes = c.classes();
        if (classes > 0) { // x @ W + b with W [d, C] row-major
            double[] cw = w.get("cls_head.weight");
            double[] cb = w.get("cls_head.bias");
            out.classes = new double[b][t][classes];
            for (int i = 0; i < b; i++) {
                for (int p = 0; p < t; p++) {
                    for (int k = 0; k < classes; k++) {
                        double s = cb[k];
                        for (int e = 0; e < d; e++) {
                            s += x[i][p][e] * cw[e * classes + k];
                        }
                        out.classes[i][p][k] = s;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Rotary embeddings in place on {@code x [B][T][heads * hs]}: in each head, the pair (e, e + hs/2) at position p
     * turns by the angle {@code p * base^(-2e / hs)}.
     */
    private void rotate(double[][][] x, int heads, int hs) {
        for (double[][] row : x) {
            for (int p = 0; p < row.length; p++) {
                for (int h = 0; h < heads; h++) {
                    for (int e = 0; e < hs / 2; e++) {
                        double angle = p * Math.pow(c.ropeBase(), -2.0 * e / hs);
                        int a = h * hs + e;
                        int b = a + hs / 2;
                        double first = row[p][a];
                        double second = row[p][b];
                        row[p][a] = first * Math.cos(angle) - second * Math.sin(angle);
                        row[p][b] = second * Math.cos(angle) + first * Math.sin(angle);
                    }
                }
            }
        }
    }

    /**
     * ALiBi's slopes as the paper builds them: for a power of two n, the geometric sequence that starts at and has
     * the ratio {@code 2^(-8/n)}; otherwise those of the nearest lower power of two m, then the even-indexed slopes
     * of 2m heads until there are n.
     */
    static double[] slopes(int n) {
        int m = 1;
        while (m * 2 <= n) {
            m *= 2;
        }
        double[] out = new double[n];
        double start = Math.pow(2, -8.0 / m);
        for (int h = 0; h < m; h++) {
            out[h] = Math.pow(start, h + 1);
        }
        double twice = Math.pow(2, -8.0 / (2 * m));
        for (int j = 0; m + j < n; j++) {
            out[m + j] = Math.pow(twice, 2 * j + 1);
        }
        return out;
    }

    /** The transformer paper's encoding: sin on even features, cos on odd ones, frequency 10000^(-2i/d). */
    static double[] sinusoid(int t, int d) {
        double[] pe = new double[t * d];
        for (int p = 0; p < t; p++) {
            for (int i = 0; 2 * i < d; i++) {
                double freq = Math.pow(10000, -2.0 * i / d);
                pe[p * d + 2 * i] = Math.sin(p * freq);
                if (2 * i + 1 < d) {
                    pe[p * d + 2 * i + 1] = Math.cos(p * freq);
                }
            }
        }
        return pe;
    }

    private double[][][] norm(double[][][] x, String name) {
        double[] gain = w.get(name + ".weight");
        double[] bias = w.get(name + ".bias");
        double[][][] y = new double[x.length][x[0].length][];
        for (int i = 0; i < x.length; i++) {
            for (int p = 0; p < x[0].length; p++) {
                y[i][p] = c.normType() == NormType.LAYERNORM
                        ? layerNorm(x[i][p], gain, bias, c.normEps())
                        : rmsNorm(x[i][p], gain, c.normEps());
            }
        }
        return y;
    }

    static double[] layerNorm(double[] x, double[] gain, double[] bias, double eps) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double[] y = new double[x.length];
        for (int e = 0; e < x.length; e++) {
            y[e] = (x[e] - mean) / Math.sqrt(var + eps) * gain[e] + bias[e];
        }
        return y;
    }

    static double[] rmsNorm(double[] x, double[] gain, double eps) {
        double ms = 0;
        for (double v : x) {
            ms += v * v;
        }
        ms /= x.length;
        double[] y = new double[x.length];
        for (int e = 0; e < x.length; e++) {
            y[e] = x[e] / Math.sqrt(ms + eps) * gain[e];
        }
        return y;
    }

    /** {@code x @ W + b} at every position. */
    private double[][][] linear(double[][][] x, String name, int out) {
        double[] wt = w.get(name + ".weight");
        double[] bias = w.get(name + ".bias");
        int in = x[0][0].length;
        double[][][] y = new double[x.length][x[0].length][out];
        for (int i = 0; i < x.length; i++) {
            for (int p = 0; p < x[0].length; p++) {
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int k = 0; k < in; k++) {
                        s += x[i][p][k] * wt[k * out + o];
                    }
                    y[i][p][o] = s;
                }
            }
        }
        return y;
    }

    private double[][][] attention(double[][][] x, String n, float[][] mask) {
        int d = c.dModel();
        int heads = c.heads();
        int hs = d / heads;
        int group = heads / c.kvHeads(); // query heads per key/value head
        double[][][] q = linear(x, n + "attn.q", d);
        double[][][] k = linear(x, n + "attn.k", c.kvHeads() * hs);
        double[][][] v = linear(x, n + "attn.v", c.kvHeads() * hs);
        int t = x[0].length;
        if (c.positions() == Positions.ROPE) {
            rotate(q, heads, hs);
            rotate(k, c.kvHeads(), hs);
        }
        double[] slopes = c.positions() == Positions.ALIBI ? slopes(heads) : new double[heads];
        double[][][] merged = new double[x.length][t][d];
        for (int i = 0; i < x.length; i++) {
            for (int h = 0; h < heads; h++) {
                int g = h / group; // the key/value head query head h reads
                for (int p = 0; p < t; p++) {
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    int visible = 0;
                    for (int j = 0; j <= p; j++) {
                        if (mask != null && mask[i][j] == 0 || c.window() > 0 && p - j >= c.window()) {
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < hs; e++) {
                            dot += q[i][p][h * hs + e] * k[i][j][g * hs + e];
                        }
                        s[j] = dot / Math.sqrt(hs) - slopes[h] * (p - j);
                        max = Math.max(max, s[j]);
                        visible++;
                    }
                    if (visible == 0) {
                        continue;
                    }
                    double z = 0;
                    double[] pr = new double[t];
                    for (int j = 0; j <= p; j++) {
                        if ((mask == null || mask[i][j] != 0) && (c.window() == 0 || p - j < c.window())) {
                            pr[j] = Math.exp(s[j] - max);
                            z += pr[j];
                        }
                    }
                    for (int j = 0; j <= p; j++) {
                        for (int e = 0; e < hs; e++) {
                            merged[i][p][h * hs + e] += pr[j] / z * v[i][j][g * hs + e];
                        }
                    }
                }
            }
        }
        return linear(merged, n + "attn.o", d);
    }

    private double[][][] mlp(double[][][] x, String n) {
        double[][][] u = linear(x, n + "mlp.fc", c.ffn());
        for (double[][] a : u) {
            for (double[] row : a) {
                for (int e = 0; e < row.length; e++) {
                    double z = row[e];
                    row[e] = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
                }
            }
        }
        return linear(u, n + "mlp.proj", c.dModel());
    }

    private static double[][][] add(double[][][] a, double[][][] b) {
        double[][][] y = new double[a.length][a[0].length][a[0][0].length];
        for (int i = 0; i < a.length; i++) {
            for (int p = 0; p < a[0].length; p++) {
                for (int e = 0; e < a[0][0].length; e++) {
                    y[i][p][e] = a[i][p][e] + b[i][p][e];
                }
            }
        }
        return y;
    }
}
