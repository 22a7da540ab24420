package org.align4j.reward;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;

import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One learned reward model per factory configuration of PID {@value #PID}, e.g. {@code deploy/}
 * {@code org.align4j.reward.learned-helpful.cfg} (read by FileInstall):
 *
 * <pre>
 * folder = runs/rm/stage-1-reward/model
 * name = helpful
 * version = 2
 * aspect = helpfulness
 * </pre>
 *
 * registered as a {@link RewardModel} with {@code align4j.name}, {@code align4j.version} and {@code align4j.aspect}
 * while the configuration exists. A relative folder is read from the working directory. See
 * {@link LearnedRewardModel} for how it scores.
 */
@Component(configurationPid = LearnedRewardComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = LearnedRewardComponent.Config.class, factory = true)
public final class LearnedRewardComponent {
    public static final String PID = "org.align4j.reward.learned";

    @ObjectClassDefinition(name = "align4j learned reward model",
            description = "A reward model trained by align4j, read from its model folder")
    public @interface Config {
        @AttributeDefinition(description = "The model folder (config.json, model.safetensors, tokenizer.json)")
        String folder();

        @AttributeDefinition(description = "align4j.name of the reward model")
        String name();

        @AttributeDefinition(description = "align4j.version of the reward model")
        String version() default "1";

        @AttributeDefinition(description = "align4j.aspect: what it judges")
        String aspect() default "overall";
    }

    private final LearnedRewardModel model;
    private final ServiceRegistration<RewardModel> registration;

    @Activate
    public LearnedRewardComponent(BundleContext context, Config config, @Reference TransformerFactory transformers,
            @Reference WeightStore weights, @Reference TensorFlowRuntime runtime) throws IOException {
        if (config.folder() == null || config.folder().isBlank() || config.name() == null
                || config.name().isBlank()) {
            throw new IllegalArgumentException(PID + ": a configuration needs folder and name");
        }
        this.model = new LearnedRewardModel(Path.of(config.folder()).toAbsolutePath().normalize(),
                new OsgiParts(context, transformers, weights, runtime));
        this.registration = context.registerService(RewardModel.class, model,
                properties(config.name(), config.version(), config.aspect()));
    }

    static Hashtable<String, Object> properties(String name, String version, String aspect) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RewardModel.NAME, name);
        props.put(RewardModel.VERSION, version);
        props.put(RewardModel.ASPECT, aspect);
        return props;
    }

    @Deactivate
    void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
        model.close(); // a call in flight holds the model's lock: close waits for it
    }
}
