package org.align4j.pipeline.internal;

import java.util.Objects;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.train.StageCheck;

/**
 * A kind of named plugin the pipeline selects by {@code align4j.name}: what it is called in messages and the
 * {@code objectClass} it is registered under. The contracts are fixed by the api bundle; the plugins themselves are
 * whatever the registry holds.
 */
public final class PluginKind {
    public static final PluginKind LOSS = new PluginKind("loss", "org.align4j.api.loss.*");
    public static final PluginKind OPTIMIZER = new PluginKind("optimizer", Optimizer.class.getName());
    public static final PluginKind SCHEDULE = new PluginKind("learning-rate schedule",
            LearningRateSchedule.class.getName());
    public static final PluginKind ATTENTION = new PluginKind("attention kernel", AttentionKernel.class.getName());
    public static final PluginKind REWARD = new PluginKind("reward model", RewardModel.class.getName());
    public static final PluginKind READER = new PluginKind("dataset reader", DatasetReader.class.getName());
    public static final PluginKind GENERATOR = new PluginKind("corpus generator", CorpusGenerator.class.getName());
    public static final PluginKind TOKENIZER = new PluginKind("tokenizer factory", TokenizerFactory.class.getName());
    public static final PluginKind STAGE_CHECK = new PluginKind("stage check", StageCheck.class.getName());

    private static final java.util.List<PluginKind> KNOWN = java.util.List.of(LOSS, OPTIMIZER, SCHEDULE, ATTENTION,
            REWARD, READER, GENERATOR, TOKENIZER, STAGE_CHECK);

    /**
     * The kind whose services are registered under {@code interfaceName}: one of the kinds above, or a kind of its
     * own (named after the interface's simple name) for a contract the pipeline does not know, e.g. a third-party
     * trainer's reference to {@code com.example.Judge}.
     */
    public static PluginKind forInterface(String interfaceName) {
        for (PluginKind k : KNOWN) {
            if (k.matches(interfaceName)) {
                return k;
            }
        }
        return new PluginKind(PluginInfo.simple(interfaceName), interfaceName);
    }

    /** Whether {@code kind} is one of the kinds of the api bundle's contracts. */
    public static boolean isKnown(PluginKind kind) {
        return KNOWN.contains(kind);
    }

    private final String label;
    private final String objectClass;

    public PluginKind(String label, String objectClass) {
        this.label = Objects.requireNonNull(label);
        this.objectClass = Objects.requireNonNull(objectClass);
    }

    /** What a person calls it: {@code loss}, {@code tokenizer factory}. */
    public String label() {
        return label;
    }

    /** The {@code objectClass} (a class name, or a package prefix ending in {@code .*}). */
    public String objectClass() {
        return objectClass;
    }

    /** Whether a service registered under {@code className} is of this kind. */
    public boolean matches(String className) {
        return objectClass.endsWith(".*")
                ? className.startsWith(objectClass.substring(0, objectClass.length() - 1))
                        && className.indexOf('.', objectClass.length() - 1) < 0
                : objectClass.equals(className);
    }

    /** {@code (&(objectClass=...)(align4j.name=<name>))}, escaped. */
    public String filter(String name) {
        return "(&(objectClass=" + objectClass + ")" + Texts.nameFilter(name) + ")";
    }

    @Override
    public String toString() {
        return label;
    }
}
