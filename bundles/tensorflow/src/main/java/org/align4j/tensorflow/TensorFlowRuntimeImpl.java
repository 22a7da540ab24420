package org.align4j.tensorflow;

import java.util.Locale;
import java.util.Map;

import org.align4j.api.runtime.TensorFlowRuntime;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;

/**
 * The runtime service: loads TensorFlow's native library once (this bundle is never refreshed while plugins come and
 * go), and opens every session with the configured device, threads and XLA setting.
 */
@Component(configurationPid = TensorFlowRuntime.PID)
@Designate(ocd = TensorFlowRuntimeImpl.Config.class)
public final class TensorFlowRuntimeImpl implements TensorFlowRuntime {

    @ObjectClassDefinition(name = "align4j TensorFlow runtime",
            description = "Device, thread pools, XLA and seed of every TensorFlow session align4j opens.")
    public @interface Config {
        @AttributeDefinition(description = "cpu, or gpu:N where the GPU native build of TensorFlow is installed")
        String device() default "cpu";

        @AttributeDefinition(description = "Threads inside one op; 0 lets TensorFlow choose")
        int intraOpThreads() default 0;

        @AttributeDefinition(description = "Ops run at once; 0 lets TensorFlow choose")
        int interOpThreads() default 0;

        @AttributeDefinition(description = "XLA JIT compilation of the graphs")
        boolean xla() default false;

        @AttributeDefinition(description = "Seed runs derive their random streams from, unless they set their own")
        long seed() default 42L;
    }

    private final String device;
    private final String deviceSpec;
    private final int intra;
    private final int inter;
    private final boolean xla;
    private final long seed;
    private final String version;

    /**
     * Values come from this component's configuration when ConfigAdmin has one (a {@code .cfg} in {@code deploy/}
     * or the web console); otherwise from the framework properties {@code align4j.tensorflow.<key>} (so a launcher
     * fixes them before anything runs), then the defaults above.
     */
    @Activate
    public TensorFlowRuntimeImpl(Config config, Map<String, Object> properties, BundleContext context) {
        this(setting(properties, context, "device", config.device()),
                Integer.parseInt(setting(properties, context, "intraOpThreads", "" + config.intraOpThreads())),
                Integer.parseInt(setting(properties, context, "interOpThreads", "" + config.interOpThreads())),
                Boolean.parseBoolean(setting(properties, context, "xla", "" + config.xla())),
                Long.parseLong(setting(properties, context, "seed", "" + config.seed())));
    }

    private static String setting(Map<String, Object> properties, BundleContext context, String key, String value) {
        if (properties.get("service.pid") != null) {
            return value; // configured through ConfigAdmin
        }
        String framework = context.getProperty("align4j.tensorflow." + key);
        return framework != null ? framework.trim() : value;
    }

    /** For use outside OSGi (tests, benchmarks). */
    public TensorFlowRuntimeImpl(String device, int intraOpThreads, int interOpThreads, boolean xla, long seed) {
        this.device = device.trim().toLowerCase(Locale.ROOT);
        this.deviceSpec = toDeviceSpec(this.device);
        if (intraOpThreads < 0 || interOpThreads < 0) {
            throw new IllegalArgumentException(PID + ": thread counts must be >= 0 (0 = TensorFlow's choice)");
        }
        this.intra = intraOpThreads;
        this.inter = interOpThreads;
        this.xla = xla;
        this.seed = seed;
        this.version = TensorFlow.version(); // loads the native library, once per JVM
        if (this.device.startsWith("gpu") && !gpuBuild()) {
            throw new IllegalStateException(PID + ": device \"" + this.device
                    + "\" needs the GPU native build of TensorFlow, but the CPU build is installed; build the"
                    + " distribution with -Ptensorflow-gpu (CUDA 12) or set device=cpu");
        }
    }

    static String toDeviceSpec(String device) {
        if (device.equals("cpu")) {
            return "/device:CPU:0";
        }
        if (device.matches("gpu(:\\d+)?")) {
            int idx = device.contains(":") ? Integer.parseInt(device.substring(4)) : 0;
            return "/device:GPU:" + idx;
        }
        throw new IllegalArgumentException(PID + ": device: expected cpu or gpu:N, got \"" + device + "\"");
    }

    private static boolean gpuBuild() {
        return "-gpu".equals(System.getProperty("org.bytedeco.javacpp.platform.extension"));
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public String deviceSpec() {
        return deviceSpec;
    }

    @Override
    public int intraOpThreads() {
        return intra;
    }

    @Override
    public int interOpThreads() {
        return inter;
    }

    @Override
    public boolean xla() {
        return xla;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public String tensorflowVersion() {
        return version;
    }

    @Override
    public Ops ops(Graph graph) {
        Ops tf = Ops.create(graph);
        return device.equals("cpu") ? tf : tf.withDevice(DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.GPU)
                .deviceIndex(Integer.parseInt(deviceSpec.substring(deviceSpec.lastIndexOf(':') + 1))).build());
    }

    @Override
    public Session openSession(Graph graph) {
        ConfigProto.Builder c = ConfigProto.newBuilder()
                .setIntraOpParallelismThreads(intra)
                .setInterOpParallelismThreads(inter)
                .setAllowSoftPlacement(true);
        if (xla) {
            c.setGraphOptions(GraphOptions.newBuilder().setOptimizerOptions(
                    OptimizerOptions.newBuilder().setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1)));
        }
        return new Session(graph, c.build());
    }

    @Override
    public String toString() {
        return "TensorFlow " + version + " on " + device + " (intra " + intra + ", inter " + inter + ", xla " + xla
                + ")";
    }
}
