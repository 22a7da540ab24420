package org.align4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.runs.PipelineCheck;
import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunService;
import org.align4j.api.runs.RunState;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Headless mode: when the framework property {@value #FILE} names a pipeline file, runs it once the framework has
 * started (in a thread of its own), prints how it ended, sets the system property {@value #EXIT_CODE} (0 completed,
 * 1 failed, 2 invalid pipeline file, 3 stopped) and stops the framework. It goes through {@link RunService}: the
 * run is submitted and awaited, so a server's console would list it too. Framework properties:
 * {@value #OVERRIDES} ({@code ;}-separated {@code key=value}), {@value #DEBUG} ({@code true} prints the stack
 * trace of a failure, not just its message) and {@value #CHECK} ({@code true} checks the file as a run would before
 * it starts, prints its stages and runs nothing: exit code 0 valid, 2 invalid).
 *
 * <p>The runner is tracked rather than referenced, so this component (and its one run) outlives a restart of the
 * runner component; if the runner does not appear within {@value #RUNNER_WAIT_SECONDS} s the run fails with a
 * message saying what to install.
 */
@Component(immediate = true)
public final class HeadlessRunner {
    public static final String FILE = "align4j.run.file";
    public static final String OVERRIDES = "align4j.run.overrides";
    public static final String DEBUG = "align4j.debug";
    /** {@code true}: check the file ({@code align4j check}) and run nothing. */
    public static final String CHECK = "align4j.run.check";
    public static final String EXIT_CODE = "align4j.exit.code";
    static final int EXIT_FAILED = 1;
    static final int EXIT_INVALID = 2;
    static final int EXIT_STOPPED = 3;
    static final int RUNNER_WAIT_SECONDS = 60;
    private static final long JOIN_MILLIS = 120_000;

    private final BundleContext context;
    private final CountDownLatch started = new CountDownLatch(1);
    private final FrameworkListener listener;
    private final ServiceTracker<RunService, RunService> runner;
    private volatile String runId;
    private final Thread thread;

    @Activate
    public HeadlessRunner(BundleContext context) {
        this.context = context;
        String file = context.getProperty(FILE);
        if (file == null || file.isBlank()) {
            listener = null;
            runner = null;
            thread = null;
            return;
        }
        listener = e -> {
            if (e.getType() == FrameworkEvent.STARTED) {
                started.countDown();
            }
        };
        context.addFrameworkListener(listener);
        if (context.getBundle(0).getState() == Bundle.ACTIVE) {
            started.countDown();
        }
        runner = new ServiceTracker<>(context, RunService.class, null);
        runner.open();
        thread = new Thread(() -> main(file.trim()), "align4j-headless");
        thread.start();
    }

    private void main(String file) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        boolean debug = Boolean.parseBoolean(context.getProperty(DEBUG));
        int code;
        try {
            started.await();
            RunService runs = runner.waitForService(RUNNER_WAIT_SECONDS * 1000L);
            if (runs == null) {
                throw new IllegalStateException("the pipeline runner did not start within " + RUNNER_WAIT_SECONDS
                        + " s; it needs Declarative Services (org.apache.felix.scr) and ConfigAdmin"
                        + " (org.apache.felix.configadmin) installed and started");
            }
            String joined = context.getProperty(OVERRIDES);
            RunRequest request = RunRequest.of(Path.of(file), joined == null || joined.isBlank() ? List.of()
                    : List.of(joined.split(";"))).from("headless");
            if (Boolean.parseBoolean(context.getProperty(CHECK))) {
                out.println(checked(runs.check(request)));
                out.flush();
                code = 0;
            } else {
                RunInfo r = runs.submit(request);
                runId = r.id();
                r = runs.await(r.id(), Duration.ofDays(3650));
                if (r.state() == RunState.FAILED) {
                    err.println("align4j: " + r.message());
                    if (debug && !r.trace().isEmpty()) {
                        err.print(r.trace());
                    }
                } else {
                    out.print(r.summary());
                    out.flush();
                }
                code = r.exitCode();
            }
        } catch (InterruptedException e) {
            err.println("align4j: the framework stopped before the run ended");
            code = EXIT_STOPPED;
            Thread.currentThread().interrupt();
        } catch (RuntimeException | LinkageError e) {
            err.println("align4j: " + (e.getMessage() == null ? e.getClass().getName() : e.getMessage()));
            if (debug) {
                e.printStackTrace(err);
            }
            code = e instanceof SettingsException ? EXIT_INVALID : EXIT_FAILED;
        }
        err.flush();
        System.setProperty(EXIT_CODE, String.valueOf(code));
        try {
            context.getBundle(0).stop();
        } catch (BundleException | IllegalStateException | SecurityException e) {
            err.println("align4j: could not stop the framework: " + e.getMessage());
        }
    }

    /** What {@code align4j check} prints for a valid file: the run, its folder and its stages. */
    static String checked(PipelineCheck plan) {
        StringBuilder b = new StringBuilder();
        b.append(plan.source()).append(": valid. Run ").append(plan.name()).append(" (seed ").append(plan.seed())
                .append(") in ").append(plan.workDir()).append(", ").append(plan.stages().size())
                .append(plan.stages().size() == 1 ? " stage:" : " stages:");
        for (PipelineCheck.Stage s : plan.stages()) {
            b.append("\n  ").append(s.label()).append(" -> ").append(s.dir());
        }
        return b.toString();
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (thread == null) {
            return;
        }
        try {
            context.removeFrameworkListener(listener);
        } catch (IllegalStateException e) {
            // the bundle is stopping
        }
        if (thread.isAlive() && thread != Thread.currentThread()) {
            RunService runs = runner.getService();
            String id = runId;
            if (runs != null && id != null) {
                try {
                    runs.stop(id, "the framework is stopping");
                } catch (RuntimeException gone) {
                    // the run service is stopping too: it stops the run itself
                }
            }
            if (runs == null || started.getCount() > 0) {
                thread.interrupt(); // still waiting for the framework or the runner
            }
            thread.join(JOIN_MILLIS);
        }
        runner.close();
    }
}
