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
 *   deploy: true                  # [false] also copy it into the running distribution's deploy/ folder, so the
 *                                 # stages after this one (best-of-n) find the reward model by name
 * </pre>
 * The jar is written to {@code <stage dir>/<name>-<version>.jar} (a temporary file renamed into place, so a stop never
 * leaves half a jar) and is the stage's output; a rerun writes it again from the same folder. With {@code deploy}, a
 * copy lands in the folder FileInstall watches ({@code felix.fileinstall.dir}), again renamed into place from a
 * temporary file next to it, so FileInstall never sees half a jar.
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
        final boolean deploy;

        Keys(Settings s) {
            s.checkKnown("trainer", "init", "name", "version", "aspect", "deploy");
            deploy = s.getBoolean("deploy", false);
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
        String where = "copy it into the distribution's deploy/ to register it";
        if (keys.deploy) {
            Path deployed = deploy(ctx, jar);
            awaitRegistered(ctx, keys);
            where = "deployed as " + deployed + " and registered";
        }
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).message("package-reward: wrote " + jar + ": reward model "
                + keys.name + " " + keys.version + " (aspect " + keys.aspect + ") from " + folder + "; " + where)
                .build());
        return new TrainingResult(TrainingResult.Status.COMPLETED, 1, Map.of("package_bytes",
                (double) Files.size(jar)), java.util.List.of(), jar);
    }

    /** Seconds {@code deploy: true} waits for FileInstall to install the jar and the model to register. */
    static final int REGISTER_SECONDS = 120;

    /** Waits until the deployed model is a service, so the stages after this one find it. */
    private void awaitRegistered(TrainingContext ctx, Keys keys) throws InterruptedException {
        String filter = "(&(" + org.align4j.api.reward.RewardModel.NAME + "=" + keys.name + ")("
                + org.align4j.api.reward.RewardModel.VERSION + "=" + keys.version + "))";
        long deadline = System.nanoTime() + REGISTER_SECONDS * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (bundleContext.getServiceReferences(org.align4j.api.reward.RewardModel.class, filter).size() > 0) {
                    return;
                }
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(filter + ": " + e.getMessage(), e);
            }
            Thread.sleep(200);
        }
        throw ctx.settings().error("deploy", "the jar is in the deploy folder, but reward model " + keys.name + " "
                + keys.version + " did not register within " + REGISTER_SECONDS + " s: is FileInstall running, and"
                + " does the framework's log say why the bundle did not start?");
    }

    /** A copy of {@code jar} in the deploy folder, renamed into place there. */
    private Path deploy(TrainingContext ctx, Path jar) throws java.io.IOException {
        String dir = bundleContext == null ? null : bundleContext.getProperty("felix.fileinstall.dir");
        if (dir == null) {
            throw ctx.settings().error("deploy", "this framework has no deploy folder (felix.fileinstall.dir is not"
                    + " set): run the pipeline in the align4j distribution, or copy " + jar + " yourself");
        }
        Path target = Path.of(dir).resolve(jar.getFileName());
        Files.createDirectories(target.getParent());
        // a whole copy beside the jar, renamed into deploy/: FileInstall never sees a partial file
        Path tmp = Files.createTempFile(jar.getParent(), ".deploying-", ".part");
        try {
            Files.copy(jar, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) { // another file system: rename within it
                Path near = Files.createTempFile(target.getParent(), ".deploying-", ".part");
                try {
                    Files.copy(jar, near, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Files.move(near, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(near);
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    private volatile org.osgi.framework.BundleContext bundleContext;

    @org.osgi.service.component.annotations.Activate
    void activate(org.osgi.framework.BundleContext context) {
        this.bundleContext = context;
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
