package org.align4j.reward;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.Trainer;
import org.align4j.api.train.TrainerService;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;

/**
 * The pipeline stage {@code trainer: package-reward}: turns the reward model of an earlier stage into a reward-model
 * bundle, as {@code align4j package-reward} does, so that one pipeline file goes from an SFT model to a jar that
 * registers a {@code RewardModel} service when copied into {@code deploy/}.
 *
 * <pre>
 * - trainer: package-reward
 *   init: stage-3                 # the reward model's folder (with reference/ when it has one)
 *   name: arithmetic-rm           # align4j.name (required)
 *   version: 1                    # align4j.version (required)
 *   aspect: correctness           # align4j.aspect [overall]
 * </pre>
 * The jar is written to {@code <stage dir>/<name>-<version>.jar} (a temporary file renamed into place, so a stop never
 * leaves half a jar) and is the stage's output; a rerun writes it again from the same folder.
 */
@Component(configurationPid = PackageRewardStage.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = Trainer.class)
@TrainerService(name = "package-reward")
public final class PackageRewardStage implements Trainer {
    /** Factory configuration PID the pipeline configures per stage. */
    public static final String PID = "org.align4j.reward.package";

    /** The stage's settings, checked. */
    static final class Keys {
        final String name;
        final String version;
        final String aspect;

        Keys(Settings s) {
            s.checkKnown("trainer", "init", "name", "version", "aspect");
            if (!s.has("init")) {
                throw s.error("init", "missing (required): the reward model to package, e.g. init: stage-3");
            }
            name = required(s, "name");
            version = required(s, "version");
            aspect = s.has("aspect") ? s.getString("aspect") : "overall";
            try {
                RewardPackager.checkArguments(name, version, aspect);
            } catch (IllegalArgumentException e) {
                String key = e.getMessage().substring(0, e.getMessage().indexOf(':'));
                throw s.error(key, e.getMessage().substring(key.length() + 2));
            }
        }

        private static String required(Settings s, String key) {
            if (!s.has(key)) {
                throw s.error(key, "missing (required): the reward model's align4j." + key);
            }
            return s.getString(key); // version: 1 (a number in YAML) reads as "1"
        }
    }

    @Override
    public TrainingResult train(TrainingContext ctx) throws Exception {
        Keys keys = new Keys(ctx.settings());
        Path folder = ctx.init().orElseThrow(() -> ctx.settings().error("init", "names no model folder"));
        Files.createDirectories(ctx.workDir());
        Path jar = RewardPackager.write(folder, keys.name, keys.version, keys.aspect,
                ctx.workDir().resolve(keys.name + "-" + keys.version + ".jar"));
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("package-reward: wrote " + jar + ": reward model "
                + keys.name + " " + keys.version + " (aspect " + keys.aspect + ") from " + folder + "; copy it into"
                + " the distribution's deploy/ to register it").build());
        return new TrainingResult(TrainingResult.Status.COMPLETED, 1, Map.of("package_bytes",
                (double) Files.size(jar)), java.util.List.of(), jar);
    }

    /** Checks a {@code package-reward} stage before the pipeline reads data or trains a tokenizer. */
    @Component(service = StageCheck.class)
    @TrainerService(name = "package-reward")
    public static final class Check implements StageCheck {
        @Override
        public void validate(Settings stage) {
            new Keys(stage);
        }
    }
}
