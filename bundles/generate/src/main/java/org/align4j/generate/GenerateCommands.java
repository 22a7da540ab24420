package org.align4j.generate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.generate.Completion;
import org.align4j.api.generate.GenerationSession;
import org.align4j.api.generate.GenerationSettings;
import org.align4j.api.generate.Generator;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.WeightStore;
import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.Scored;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The Gogo command (plain service properties, no Gogo dependency), also run headless by {@link HeadlessGenerate}:
 *
 * <pre>
 * align4j:generate runs/tiny/model "Once upon a time" --max-tokens 64 --temperature 0.8 --top-k 40 --samples 3
 * </pre>
 *
 * The prompt is encoded with the folder's {@code tokenizer.json} through the {@code bpe} {@link TokenizerFactory}
 * service and starts with the end-of-text token (which also begins every document in pre-training); generation
 * stops at end-of-text and at each {@code --stop} string, and the text is cut before the stop string. The attention
 * kernel is the service named by the model's {@code attention} setting. Both are leased for the call only.
 */
@Component(service = GenerateCommands.class, property = {
    "osgi.command.scope=align4j",
    "osgi.command.function=generate",
    "osgi.command.function=bestofn"})
public final class GenerateCommands {
    /** How long a call waits for a kernel or tokenizer service that is not registered yet (bundles starting). */
    static final long WAIT_MILLIS = 30_000;
    static final String TOKENIZER = "tokenizer.json";
    static final String TOKENIZER_TYPE = "bpe";

    /** A service leased for one call. */
    interface Lease<S> extends AutoCloseable {
        /** The service, or {@code null} when none turned up in time. */
        S service() throws InterruptedException;

        @Override
        void close();
    }

    /** Finds the service of a type whose {@code align4j.name} is {@code name}. */
    interface Lookup {
        <S> Lease<S> lease(Class<S> type, String name) throws IOException;
    }

    private final Lookup lookup;
    private final Generator generator;
    private final WeightStore store;

    /** For {@code --reward}: the reward models, when the align4j-reward bundle is there. */
    @org.osgi.service.component.annotations.Reference(cardinality = org.osgi.service.component.annotations
            .ReferenceCardinality.OPTIONAL, policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    private volatile RewardModels rewards;

    @Activate
    public GenerateCommands(BundleContext context, @Reference Generator generator, @Reference WeightStore store) {
        this(trackers(context), generator, store);
    }

    GenerateCommands(Lookup lookup, Generator generator, WeightStore store) {
        this.lookup = lookup;
        this.generator = generator;
        this.store = store;
    }

    /** For tests: the reward models {@code --reward} leases from. */
    GenerateCommands rewards(RewardModels r) {
        this.rewards = r;
        return this;
    }

    /**
     * {@code align4j:bestofn <model-folder> <prompt> --reward NAME [-n 8] [options]}: generate with {@code --reward},
     * 8 samples unless {@code -n} says otherwise.
     */
    public String bestofn(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--samples", "8"));
        all.addAll(Arrays.asList(args));
        if (!all.contains("--reward") && all.stream().noneMatch(a -> a.startsWith("--reward="))) {
            return "align4j:bestofn: --reward NAME: which reward model scores the samples?\n" + GenerateOptions.USAGE;
        }
        return generate(all.toArray(new String[0]));
    }

    /** {@code align4j:generate <model-folder> <prompt> [options]}: the generated text (see {@link #USAGE}). */
    public String generate(String... args) throws Exception {
        GenerateOptions o;
        try {
            o = GenerateOptions.parse(Arrays.asList(args));
        } catch (GenerateOptions.UsageException e) {
            return "align4j:generate: " + e.getMessage() + "\n" + GenerateOptions.USAGE;
        }
        if (o.help) {
            return GenerateOptions.USAGE;
        }
        StringBuilder warnings = new StringBuilder();
        String text = execute(o, w -> warnings.append("warning: ").append(w).append('\n'));
        return warnings + text;
    }

    /** Runs {@code o}; warnings go to {@code warn}; returns the text to print. */
    String execute(GenerateOptions o, Consumer<String> warn) throws IOException, InterruptedException {
        Path folder = Path.of(o.folder).toAbsolutePath().normalize();
        Path tokenizerFile = folder.resolve(TOKENIZER);
        if (!Files.isDirectory(folder)) {
            throw new IOException(o.folder + ": no such model folder (it holds config.json, model.safetensors and "
                    + TOKENIZER + ", as a stage writes them to <workdir>/stage-<i>-<trainer>/model)");
        }
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new IOException(folder + ": no " + TOKENIZER + " in the model folder, so the prompt cannot be"
                    + " encoded (a pretrain run writes it next to model.safetensors)");
        }
        Path configFile = folder.resolve(GeneratorImpl.CONFIG);
        if (!Files.isRegularFile(configFile)) {
            // e.g. a run's workdir, which has a tokenizer.json but no model: say so, not just the missing file's path
            throw new IOException(folder + ": no " + GeneratorImpl.CONFIG + " in the model folder (a model folder"
                    + " holds " + GeneratorImpl.CONFIG + ", model.safetensors and " + TOKENIZER + ", as a stage"
                    + " writes them to <workdir>/stage-<i>-<trainer>/model)");
        }
        ModelConfig config = store.loadConfig(configFile);
        Tokenizer tokenizer;
        try (Lease<TokenizerFactory> tokenizers = lookup.lease(TokenizerFactory.class, TOKENIZER_TYPE)) {
            TokenizerFactory factory = tokenizers.service();
            if (factory == null) {
                throw new IOException("no tokenizer factory named \"" + TOKENIZER_TYPE + "\" is registered: install"
                        + " and start the align4j-tokenizer bundle");
            }
            tokenizer = factory.load(tokenizerFile, warn);
        }
        GenerationSession session;
        try (Lease<AttentionKernel> kernels = lookup.lease(AttentionKernel.class, config.attention())) {
            AttentionKernel kernel = kernels.service();
            if (kernel == null) {
                throw new IOException(folder.resolve(GeneratorImpl.CONFIG) + ": the model uses the attention kernel \""
                        + config.attention() + "\", but no kernel of that name is registered (e.g. install"
                        + " align4j-attention-standard for \"mha\")");
            }
            session = generator.openFolder(folder, kernel); // the kernel is read once, while the graph is built
        }
        try (GenerationSession s = session) {
            s.warnings().forEach(warn);
            int[] encoded = tokenizer.encode(o.prompt);
            int[] prompt = new int[encoded.length + 1];
            prompt[0] = tokenizer.eosId();
            System.arraycopy(encoded, 0, prompt, 1, encoded.length);
            GenerationSettings settings = o.settings().stopTokens(stops(tokenizer)).decoder(tokenizer::decode)
                    .build();
            List<Completion> samples = s.generate(List.of(prompt), settings).get(0);
            List<String> texts = new ArrayList<>();
            for (Completion c : samples) {
                texts.add(tokenizer.decode(c.tokens()));
            }
            if (o.reward != null) {
                return bestOfN(o, samples, texts);
            }
            return format(o.prompt, samples, texts, o.stops);
        }
    }

    /**
     * The prompt followed by each continuation, cut before the first stop string; with several samples each is
     * headed by its number, why it ended and its length.
     */
    static String format(String prompt, List<Completion> samples, List<String> texts, List<String> stops) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < samples.size(); i++) {
            String text = cut(texts.get(i), stops);
            if (samples.size() > 1) {
                b.append(String.format(Locale.ROOT, "--- sample %d of %d (%s, %d tokens) ---%n", i + 1,
                        samples.size(), samples.get(i).finishReason().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                        samples.get(i).tokens().length));
            }
            b.append(prompt).append(text).append('\n');
        }
        return b.toString();
    }

    /** The samples scored by the reward model {@code o.reward}, best first, each with its reward. */
    private String bestOfN(GenerateOptions o, List<Completion> samples, List<String> texts)
            throws IOException, InterruptedException {
        RewardModels r = rewards;
        if (r == null) {
            throw new IOException("--reward " + o.reward + ": no RewardModels service is registered (install and"
                    + " start the align4j-reward bundle)");
        }
        List<PromptCompletion> batch = new ArrayList<>();
        for (String t : texts) {
            batch.add(new PromptCompletion(o.prompt, cut(t, o.stops)));
        }
        RewardModels.Lease lease;
        try {
            lease = r.awaitLease(o.reward, java.util.Optional.ofNullable(o.rewardVersion),
                    java.time.Duration.ofMillis(WAIT_MILLIS));
        } catch (RewardModelException none) {
            throw new IOException("--reward " + o.reward + ": " + none.getMessage() + " (waited " + WAIT_MILLIS / 1000
                    + " s for it to register)", none);
        }
        Scored scored;
        try {
            scored = lease.score(batch);
        } catch (RewardModelException e) {
            throw new IOException("--reward " + o.reward + ": " + e.getMessage(), e);
        }
        return ranked(o.prompt, samples, batch, scored.scores().scores(), scored.model().name() + " "
                + scored.model().version() + " [" + scored.model().bundle() + "]");
    }

    /** The samples best first (the earlier of equal rewards first), each headed by its rank, reward and length. */
    static String ranked(String prompt, List<Completion> samples, List<PromptCompletion> cut, float[] rewards,
            String model) {
        Integer[] order = new Integer[samples.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.isNaN(rewards[a]) != Float.isNaN(rewards[b])
                ? (Float.isNaN(rewards[a]) ? 1 : -1) : Float.compare(rewards[b], rewards[a]));
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "best of %d by reward model %s%n",
                samples.size(), model));
        for (int k = 0; k < order.length; k++) {
            int i = order[k];
            b.append(String.format(Locale.ROOT, "--- %s (sample %d, reward %.4f, %d tokens) ---%n", k == 0 ? "best"
                    : "rank " + (k + 1), i + 1, rewards[i], samples.get(i).tokens().length));
            b.append(prompt).append(cut.get(i).completion()).append('\n');
        }
        return b.toString();
    }

    /** {@code text} up to the earliest occurrence of any stop string. */
    static String cut(String text, List<String> stops) {
        int end = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) {
                end = Math.min(end, at);
            }
        }
        return text.substring(0, end);
    }

    /** Leases from the service registry: a tracker per call, waiting up to {@value #WAIT_MILLIS} ms. */
    private static Lookup trackers(BundleContext context) {
        return new Lookup() {
            @Override
            public <S> Lease<S> lease(Class<S> type, String name) throws IOException {
                Filter f;
                try {
                    f = FrameworkUtil.createFilter("(&(objectClass=" + type.getName() + ")(align4j.name="
                            + name.replaceAll("([\\\\()*])", "\\\\$1") + "))");
                } catch (InvalidSyntaxException e) {
                    throw new IOException("cannot look up \"" + name + "\": " + e.getMessage(), e);
                }
                ServiceTracker<S, S> t = new ServiceTracker<>(context, f, null);
                t.open();
                return new Lease<>() {
                    @Override
                    public S service() throws InterruptedException {
                        return t.waitForService(WAIT_MILLIS);
                    }

                    @Override
                    public void close() {
                        t.close();
                    }
                };
            }
        };
    }

    /** End of text, and the end-of-turn marker where the tokenizer has one (a chat model's turn ends there). */
    static int[] stops(Tokenizer tokenizer) {
        java.util.OptionalInt end = tokenizer.specialTokens().id(org.align4j.api.tokenizer.SpecialTokens.END);
        return end.isPresent() && end.getAsInt() != tokenizer.eosId()
                ? new int[] {tokenizer.eosId(), end.getAsInt()} : new int[] {tokenizer.eosId()};
    }
}
