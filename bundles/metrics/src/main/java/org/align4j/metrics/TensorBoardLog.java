package org.align4j.metrics;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Writes every metric of a run's steps and evaluations as TensorBoard scalars: one folder per stage,
 * {@code <workdir>/tensorboard/stage-<n>-<trainer>/events.out.tfevents.*}, so {@code tensorboard --logdir
 * <workdir>/tensorboard} shows each stage as a run of its own, with the metric names as tags ({@code loss},
 * {@code learning_rate}, {@code eval_loss}, {@code objective/kl}, ...) and the stage's step as the step. Records are
 * flushed after each event, so a TensorBoard following the folder updates while training goes on; a resumed run
 * starts a new file in the same folder, which TensorBoard reads as the same run.
 *
 * <p>On by default; {@code deploy/org.align4j.metrics.tensorboard.cfg} with {@code enabled=false} turns it off, and
 * {@code folder} names another folder under the run's workdir.
 */
@Component(service = TrainingListener.class, configurationPid = TensorBoardLog.PID)
@Designate(ocd = TensorBoardLog.Config.class)
public final class TensorBoardLog implements TrainingListener {
    public static final String PID = "org.align4j.metrics.tensorboard";

    @ObjectClassDefinition(name = "align4j TensorBoard log",
            description = "Writes the metrics of every run as TensorBoard event files under its workdir.")
    public @interface Config {
        @AttributeDefinition(description = "Write TensorBoard event files")
        boolean enabled() default true;

        @AttributeDefinition(description = "The folder under the run's workdir that holds one folder per stage")
        String folder() default "tensorboard";
    }

    private final boolean enabled;
    private final String folder;
    private final String host;
    private final RunFiles<EventFile> files = new RunFiles<>("TensorBoard events");

    @Activate
    public TensorBoardLog(Config config) {
        this.enabled = config.enabled();
        String f = config.folder() == null ? "" : config.folder().trim();
        if (f.isEmpty() || f.contains("..") || Path.of(f).isAbsolute()) {
            throw new IllegalArgumentException(PID + ": folder: expected a folder name under the run's workdir, got \""
                    + config.folder() + "\"");
        }
        this.folder = f;
        this.host = hostName();
    }

    @Override
    public synchronized void onEvent(TrainingEvent event) {
        if (!enabled || event.workDir() == null) {
            return;
        }
        boolean scalars = (event.kind() == TrainingEvent.Kind.STEP || event.kind() == TrainingEvent.Kind.EVALUATION)
                && !event.metrics().isEmpty() && !event.stage().isEmpty();
        Path dir = event.workDir().resolve(folder).resolve(stageFolder(event.stage()));
        if (scalars) {
            try {
                EventFile f = files.get(event.run(), dir, d -> EventFile.create(d, event.timeMillis(), host));
                for (Map.Entry<String, Double> m : event.metrics().entrySet()) {
                    f.scalar(m.getKey(), event.step(), event.timeMillis(), m.getValue().floatValue());
                }
                f.flush();
            } catch (IOException e) {
                files.failed(event.run(), dir, e);
            }
        }
        switch (event.kind()) {
            case STAGE_FINISHED -> files.close(event.run(), dir);
            case RUN_FINISHED, RUN_FAILED -> files.closeRun(event.run());
            default -> {
            }
        }
    }

    /** {@code 0:pretrain} as {@code stage-0-pretrain}, the name of the stage's own folder. */
    static String stageFolder(String stage) {
        int colon = stage.indexOf(':');
        String name = colon < 0 ? "stage-" + stage : "stage-" + stage.substring(0, colon) + "-" + stage.substring(colon
                + 1);
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Deactivate
    synchronized void deactivate() {
        files.closeAll();
    }

    /** How many event files are open (for tests). */
    synchronized int openFiles() {
        return files.size();
    }

    /** The machine's name from the environment (no name lookup, which can stall on a machine without DNS). */
    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        return h == null || h.isBlank() ? "localhost" : h;
    }
}
