package org.align4j.api.runtime;

import org.osgi.annotation.versioning.ProviderType;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/**
 * The TensorFlow runtime of this framework, registered by the bundle that carries TensorFlow Java. Every session
 * align4j opens comes from here, so device, thread pools, XLA and seeds are set in one place (its configuration,
 * PID {@value #PID}).
 *
 * <p>The device is fixed when the framework starts: {@code cpu} with the CPU native build, {@code gpu:N} only when
 * the GPU native build is installed. Switching between them is a restart, never a hot swap, because the native
 * library can be loaded only once per JVM.
 */
@ProviderType
public interface TensorFlowRuntime {

    /** Configuration PID of the runtime. */
    String PID = "org.align4j.tensorflow.runtime";

    /** The device graphs are placed on: {@code "cpu"} or {@code "gpu:N"}. */
    String device();

    /** TensorFlow's device string for {@link #device()}, e.g. {@code "/device:CPU:0"}. */
    String deviceSpec();

    /** Threads used inside one op (0 = TensorFlow's choice). */
    int intraOpThreads();

    /** Threads running independent ops concurrently (0 = TensorFlow's choice). */
    int interOpThreads();

    /** Whether XLA JIT compilation is switched on for the sessions opened here. */
    boolean xla();

    /** The seed the graph-level random ops of a run derive from, unless the run sets its own. */
    long seed();

    /** The version of TensorFlow's native library, e.g. {@code "2.18.0"}. */
    String tensorflowVersion();

    /** An {@link Ops} on {@code graph} placed on this runtime's device. */
    Ops ops(Graph graph);

    /** A session on {@code graph} with this runtime's threads, device and XLA settings. The caller closes it. */
    Session openSession(Graph graph);
}
