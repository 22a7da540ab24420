package org.align4j.reward;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.util.tracker.ServiceTracker;

/**
 * What a learned reward model is built with inside OSGi: the model bundle's services (references of the component
 * that makes it), and the attention kernel and the {@code bpe} tokenizer factory looked up by name when the model
 * loads (waiting up to {@link #WAIT} for bundles that are still starting), used while the graph is built and then
 * released.
 */
final class OsgiParts implements LearnedRewardModel.Parts {
    static final Duration WAIT = Duration.ofSeconds(10); // well inside a call's default timeout (30 s)
    static final String TOKENIZER_TYPE = "bpe";

    private final BundleContext context;
    private final TransformerFactory transformers;
    private final WeightStore weights;
    private final TensorFlowRuntime runtime;

    OsgiParts(BundleContext context, TransformerFactory transformers, WeightStore weights, TensorFlowRuntime runtime) {
        this.context = context;
        this.transformers = transformers;
        this.weights = weights;
        this.runtime = runtime;
    }

    @Override
    public TransformerFactory transformers() {
        return transformers;
    }

    @Override
    public WeightStore weights() {
        return weights;
    }

    @Override
    public TensorFlowRuntime runtime() {
        return runtime;
    }

    @Override
    public AttentionKernel kernel(String name) throws IOException {
        return named(AttentionKernel.class, name, "the model's config.json names the attention kernel \"" + name
                + "\", but no kernel of that name is registered (install the bundle that provides it, e.g."
                + " align4j-attention-standard for mha)");
    }

    @Override
    public Tokenizer tokenizer(Path file) throws IOException {
        TokenizerFactory factory = named(TokenizerFactory.class, TOKENIZER_TYPE, "no tokenizer factory named \""
                + TOKENIZER_TYPE + "\" is registered: install and start the align4j-tokenizer bundle");
        return factory.load(file, w -> System.err.println("align4j: warning: " + w));
    }

    /**
     * The service of {@code type} named {@code name}. The object stays usable after the tracker closes (the kernel
     * is read once, while the graph is built).
     */
    private <S> S named(Class<S> type, String name, String missing) throws IOException {
        Filter filter;
        try {
            filter = FrameworkUtil.createFilter("(&(objectClass=" + type.getName() + ")(align4j.name=" + name + "))");
        } catch (InvalidSyntaxException e) {
            throw new IOException("\"" + name + "\" is not a valid service name: " + e.getMessage(), e);
        }
        ServiceTracker<S, S> tracker = new ServiceTracker<>(context, filter, null);
        tracker.open();
        try {
            S s = tracker.waitForService(WAIT.toMillis());
            if (s == null) {
                throw new IOException(missing + " (waited " + WAIT.toSeconds() + " s)");
            }
            return s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + type.getSimpleName() + " \"" + name + "\"", e);
        } finally {
            tracker.close();
        }
    }
}
