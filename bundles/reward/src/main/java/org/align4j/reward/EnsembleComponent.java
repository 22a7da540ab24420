package org.align4j.reward;

import java.util.Hashtable;

import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModels;
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
 * One ensemble reward model per factory configuration of PID {@value #PID}, e.g. {@code deploy/}
 * {@code org.align4j.reward.ensemble-safe.cfg}:
 *
 * <pre>
 * name = safe-correctness
 * version = 1
 * members = (align4j.aspect=correctness)
 * combine = mean-minus-std
 * k = 1.0
 * weights = arithmetic-verifier=2, learned-prm=1
 * on_failure = drop
 * </pre>
 *
 * registered as a {@link RewardModel} with {@code align4j.name}, {@code align4j.version} and {@code align4j.aspect}
 * ({@code aspect}, default {@code ensemble}). See {@link EnsembleReward} for the rules.
 */
@Component(configurationPid = EnsembleComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = EnsembleComponent.Config.class, factory = true)
public final class EnsembleComponent {
    public static final String PID = "org.align4j.reward.ensemble";

    @ObjectClassDefinition(name = "align4j reward ensemble", description = "A reward model combining others")
    public @interface Config {
        @AttributeDefinition(description = "The ensemble's align4j.name")
        String name();

        @AttributeDefinition(description = "The ensemble's align4j.version")
        String version() default "1";

        @AttributeDefinition(description = "The ensemble's align4j.aspect")
        String aspect() default "ensemble";

        @AttributeDefinition(description = "LDAP filter over reward-model services, e.g. (align4j.aspect=correctness)")
        String members();

        @AttributeDefinition(description = "mean, min or mean-minus-std")
        String combine() default "mean";

        @AttributeDefinition(description = "k of mean - k * std")
        double k() default 1.0;

        @AttributeDefinition(description = "Weights by member name, e.g. helpful=2 (others weigh 1)")
        String[] weights() default {};

        @AttributeDefinition(description = "fail: a failing member fails the call; drop: it is left out")
        String on__failure() default "fail";
    }

    private final ServiceRegistration<RewardModel> registration;

    @Activate
    public EnsembleComponent(BundleContext context, Config config, @Reference RewardModels models) {
        String where = PID + " (" + config.name() + ")";
        if (config.name() == null || config.name().isBlank() || config.members() == null
                || config.members().isBlank()) {
            throw new IllegalArgumentException(PID + ": a configuration needs name and members (an LDAP filter)");
        }
        String failure = config.on__failure().trim();
        if (!failure.equals("fail") && !failure.equals("drop")) {
            throw new IllegalArgumentException(where + ": on_failure: expected fail or drop, got \"" + failure + "\"");
        }
        EnsembleReward ensemble = new EnsembleReward(models, config.name(), config.members(),
                EnsembleReward.Combine.parse(config.combine(), where + ": combine"), config.k(),
                EnsembleReward.weights(config.weights(), where + ": weights"), failure.equals("drop"),
                msg -> System.err.println("align4j: " + msg));
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(RewardModel.NAME, config.name());
        props.put(RewardModel.VERSION, config.version());
        props.put(RewardModel.ASPECT, config.aspect());
        registration = context.registerService(RewardModel.class, ensemble, props);
    }

    @Deactivate
    void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already unregistered with the bundle
        }
    }
}
