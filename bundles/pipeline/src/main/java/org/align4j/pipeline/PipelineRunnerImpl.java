package org.align4j.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Consumer;

import org.align4j.api.metrics.TrainingListener;
import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunService;
import org.align4j.api.train.Trainer;
import org.align4j.pipeline.internal.EventBus;
import org.align4j.pipeline.internal.PipelineEngine;
import org.align4j.pipeline.internal.PipelinePlan;
import org.align4j.pipeline.internal.RunFailure;
import org.align4j.pipeline.internal.RunOutcome;
import org.align4j.pipeline.internal.Runs;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Runs pipeline files: reads and checks the whole file against the live registry, prepares data and tokenizer, then
 * runs each stage through its trainer, configured by a ConfigAdmin factory configuration whose target filters
 * Declarative Services resolves. Events go to every {@link TrainingListener} service (the whiteboard).
 *
 * <p>A stage's configuration (factory PID = the trainer component's configuration PID, name {@code <run>-<i>},
 * location {@code ?}) holds {@value Trainer#RUN} = {@code <run>/<i>}, {@code align4j.stage} = {@code <i>:<trainer>},
 * {@code loss.target}, {@code optimizer.target}, {@code schedule.target}, {@code attention.target} and
 * {@code reward.target} = {@code (align4j.name=<name>)} where the stage (or the trainer's references) call for them,
 * and every setting of the stage flattened as a string under {@code stage.} (e.g. {@code stage.optimizer.lr}). It
 * is deleted when the stage ends, however it ends.
 */
@Component(service = PipelineRunner.class, configurationPid = PipelineRunnerImpl.PID, immediate = true)
// the run service is registered in code (below), so the manifest says it is offered: resolvers (Karaf's) check it
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>=\"org.align4j.api.runs.RunService\"",
        uses = RunService.class)
@Designate(ocd = PipelineRunnerImpl.Config.class)
public final class PipelineRunnerImpl implements PipelineRunner {
    /** Configuration PID of the runner. */
    public static final String PID = "org.align4j.pipeline";

    @ObjectClassDefinition(name = "align4j pipeline runner",
            description = "How long the runner waits for plugins and trainers, and for runs at shutdown.")
    public @interface Config {
        @AttributeDefinition(description = "Seconds to wait for a named plugin that is not registered yet")
        int plugin_wait_seconds() default 5;

        @AttributeDefinition(description = "Seconds to wait for a configured trainer to be registered")
        int trainer_wait_seconds() default 20;

        @AttributeDefinition(description = "Seconds to wait for running runs to stop when the runner goes away")
        int shutdown_wait_seconds() default 60;

        @AttributeDefinition(description = "Runs submitted to the run service (console, align4j:submit) that run at"
                + " once; the others wait in the queue")
        int max_concurrent_runs() default 1;
    }

    private final EventBus bus = new EventBus(msg -> System.err.println("align4j: " + msg));
    private final BundleContext context;
    private final ScrTrainers trainers;
    private final PipelineEngine engine;
    private final Duration shutdownWait;
    private final Runs runs;
    private final ServiceRegistration<RunService> runService;

    @Activate
    public PipelineRunnerImpl(BundleContext context, Config config,
            @Reference(name = "scr") ServiceComponentRuntime scr,
            @Reference(name = "configAdmin") ConfigurationAdmin configAdmin) {
        this.context = context;
        this.trainers = new ScrTrainers(context, scr, configAdmin);
        this.shutdownWait = Duration.ofSeconds(Math.max(0, config.shutdown_wait_seconds()));
        this.engine = new PipelineEngine(() -> new OsgiPlugins(context), trainers, bus,
                new PipelineEngine.Options(Duration.ofSeconds(Math.max(0, config.plugin_wait_seconds())),
                        Duration.ofSeconds(Math.max(1, config.trainer_wait_seconds())), Path.of("")),
                System::currentTimeMillis);
        this.runs = new Runs(new Runs.Engine() {
            @Override
            public PipelinePlan check(RunRequest r) {
                return engine.check(r.file(), r.overrides(), r.workspace().orElse(null));
            }

            @Override
            public RunOutcome run(RunRequest r, Consumer<org.align4j.pipeline.internal.RunState> started)
                    throws RunFailure {
                return engine.run(r.file(), r.overrides(), r.workspace().orElse(null), started);
            }
        }, () -> PluginDirectory.plugins(context, scr), trainers::retarget, config.max_concurrent_runs(),
                System::currentTimeMillis,
                msg -> System.err.println("align4j: " + msg));
        bus.add(runs);
        deleteLeftoverStageConfigurations(configAdmin);
        // registered by hand (hence immediate): RunService.stop and PipelineRunner.stop differ only in return type
        this.runService = context.registerService(RunService.class, runs, new Hashtable<>(Map.of(
                Constants.SERVICE_DESCRIPTION, "align4j run queue", "align4j.max.concurrent.runs",
                runs.maxConcurrent())));
    }

    /** Stage configurations of runs that ended with the JVM (a kill) would otherwise start trainers for nothing. */
    private static void deleteLeftoverStageConfigurations(ConfigurationAdmin configAdmin) {
        try {
            Configuration[] left = configAdmin.listConfigurations("(" + Trainer.RUN + "=*)");
            if (left != null) {
                for (Configuration c : left) {
                    c.delete();
                }
            }
        } catch (IOException | InvalidSyntaxException | IllegalStateException e) {
            System.err.println("align4j: could not delete leftover stage configurations: " + e.getMessage());
        }
    }

    @Reference(name = "listeners", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeListener")
    void addListener(TrainingListener listener) {
        bus.add(listener);
    }

    void removeListener(TrainingListener listener) {
        bus.remove(listener);
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        try {
            runService.unregister();
        } catch (IllegalStateException gone) {
            // the bundle is stopping and its services are gone already
        }
        List<String> queued = runs.close("the pipeline runner is stopping", shutdownWait);
        if (!queued.isEmpty()) {
            System.err.println("align4j: submitted runs still going after " + shutdownWait.toSeconds() + " s: "
                    + queued);
        }
        List<String> left = engine.stopAll("the pipeline runner is stopping", shutdownWait);
        if (!left.isEmpty()) {
            System.err.println("align4j: runs still going after " + shutdownWait.toSeconds() + " s: " + left);
        }
    }

    @Override
    public RunReport run(Path pipelineFile, Map<String, String> overrides) throws Exception {
        try {
            return runs.runHere(RunRequest.of(pipelineFile, overrides).from("api")).report();
        } catch (RunFailure f) {
            Throwable c = f.getCause();
            if (c instanceof Exception) {
                throw (Exception) c;
            }
            throw (Error) c;
        }
    }

    @Override
    public void stop(String run, String reason) {
        engine.stop(run, reason);
    }
}
