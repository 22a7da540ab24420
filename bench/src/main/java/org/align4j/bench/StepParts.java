package org.align4j.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;

/**
 * Which part of a training step a traced node belongs to: {@code matmuls} (the dense projections q, k, v, o, fc,
 * proj and the LM head, with their biases), {@code attention}, {@code normalisation}, {@code activations},
 * {@code embedding}, {@code loss}, {@code optimizer} or {@code other} (residual adds, shapes, the runtime).
 *
 * <p>Forward ops are placed by their name scopes, which the model sets ({@code block0/attn/q/MatMul},
 * {@code block0/mlp/gelu/Tanh}, {@code block0/ln_1/...}) and the plain graph sets around the loss and the optimizer.
 * Gradient ops ({@code Gradients/...}) carry no forward names, so they are placed by what they read: a matrix product
 * by its kernel is a matmul, a batched one attention; any other gradient op goes to the part of the forward tensors it
 * reads (attention, activations, normalisation, loss and embedding before matmuls, since the activation and norm
 * gradients also read the projections' outputs), else to the part of its first gradient input. That attribution is
 * approximate at the parts' edges, and says so in the output.
 */
final class StepParts {
    static final List<String> PARTS = List.of("matmuls", "attention", "normalisation", "activations", "embedding",
            "loss", "optimizer", "other");
    private static final List<String> PRIORITY = List.of("attention", "activations", "normalisation", "loss",
            "embedding", "optimizer", "matmuls");

    private final Graph graph;
    private final Map<String, String> memo = new HashMap<>();

    StepParts(Graph graph) {
        this.graph = graph;
    }

    /** The part of the node {@code name} whose kernel {@code kernelType} ran. */
    String part(String name, String kernelType) {
        String byKernel = byKernel(kernelType);
        if (byKernel != null) {
            return byKernel;
        }
        GraphOperation op = find(name);
        if (op == null) {
            String scoped = byScope(name);
            return scoped == null ? "other" : scoped;
        }
        return of(op);
    }

    /** Matrix products by their kernel, whatever their scope: a projection's gradient is still a matmul. */
    static String byKernel(String type) {
        if (type.contains("BatchMatMul") || type.equals("Softmax") || type.equals("_MklSoftmax")) {
            return "attention";
        }
        if (type.contains("MatMul") || type.startsWith("BiasAdd")) {
            return "matmuls";
        }
        return null;
    }

    /** The part a forward op's name scopes place it in, innermost first; null when none does. */
    static String byScope(String name) {
        String[] parts = name.split("/");
        if (parts.length > 0 && parts[0].equalsIgnoreCase("gradients")) {
            return null;
        }
        for (int i = parts.length - 2; i >= 0; i--) { // the last component is the op's own name
            String s = parts[i].replaceAll("_\\d+$", ""); // a scope made unique: gelu_1
            switch (s) {
                case "q", "k", "v", "o", "fc", "proj", "lm_head":
                    return "matmuls";
                case "attn":
                    return "attention";
                case "ln", "ln_f":
                    return "normalisation";
                case "gelu":
                    return "activations";
                case "embed":
                    return "embedding";
                case "loss":
                    return "loss";
                case "optimizer":
                    return "optimizer";
                default:
                    if (s.matches("ln_\\d+")) {
                        return "normalisation";
                    }
            }
        }
        return null;
    }

    /** The graph op of a traced node, or of the nearest enclosing name (grappler names its new nodes below). */
    private GraphOperation find(String name) {
        String n = name;
        while (true) {
            GraphOperation op = graph.operation(n);
            if (op != null) {
                return op;
            }
            int slash = n.lastIndexOf('/');
            if (slash <= 0) {
                return null;
            }
            n = n.substring(0, slash);
        }
    }

    private String of(GraphOperation op) {
        String known = memo.get(op.name());
        if (known != null) {
            return known;
        }
        memo.put(op.name(), "other"); // a guard: the graph is acyclic, but never loop
        String part = byKernel(op.type());
        if (part == null) {
            part = byScope(op.name());
        }
        if (part == null && op.name().toLowerCase(java.util.Locale.ROOT).startsWith("gradients/")) {
            part = fromInputs(op);
        }
        part = part == null ? "other" : part;
        memo.put(op.name(), part);
        return part;
    }

    /** A gradient op's part: from the forward tensors it reads, by priority, else from its gradient inputs. */
    private String fromInputs(GraphOperation op) {
        String best = null;
        String fromGradient = null;
        for (Operand<?> in : op.inputs()) {
            GraphOperation src = (GraphOperation) in.op();
            if (src.type().equals("Const")) {
                continue;
            }
            boolean gradient = src.name().toLowerCase(java.util.Locale.ROOT).startsWith("gradients/");
            String p = of(src);
            if (p.equals("other")) {
                continue;
            }
            if (gradient) {
                if (fromGradient == null) {
                    fromGradient = p;
                }
            } else if (best == null || PRIORITY.indexOf(p) < PRIORITY.indexOf(best)) {
                best = p;
            }
        }
        return best != null ? best : fromGradient;
    }
}
