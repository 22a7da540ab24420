package org.align4j.pipeline.internal;

import java.util.Objects;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.tokenizer.TokenizerFactory;

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
