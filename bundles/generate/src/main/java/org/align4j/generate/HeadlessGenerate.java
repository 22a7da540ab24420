package org.align4j.generate;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

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
 * {@code bin/align4j generate <model-folder> "<prompt>" [options]}: when the framework property {@value #ARGS} holds
 * the arguments (separated by U+001F, as the launcher writes them), runs {@link GenerateCommands} once the framework
 * has started, prints the text on standard output (warnings and errors on standard error), sets the system property
 * {@value #EXIT_CODE} (0 done, 1 failed, 2 bad command line) and stops the framework. Messages start with the
 * command the user typed, the framework property {@value #COMMAND} ({@code generate} unless the launcher says
 * {@code best-of-n}).
 */
@Component(immediate = true)
public final class HeadlessGenerate {
    public static final String ARGS = "align4j.generate.args";
    public static final String SEPARATOR = "\u001f";
    public static final String EXIT_CODE = "align4j.exit.code";
    public static final String DEBUG = "align4j.debug";
    /** The command the user typed: {@code generate} (the default) or {@code best-of-n}. */
    public static final String COMMAND = "align4j.generate.command";
    static final long WAIT_MILLIS = 60_000;

    private final BundleContext context;
    private final CountDownLatch started = new CountDownLatch(1);
    private final FrameworkListener listener;
    private final ServiceTracker<GenerateCommands, GenerateCommands> commands;
    private final Thread thread;

    @Activate
    public HeadlessGenerate(BundleContext context) {
        this.context = context;
        String args = context.getProperty(ARGS);
        if (args == null) {
            listener = null;
            commands = null;
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
        commands = new ServiceTracker<>(context, GenerateCommands.class, null);
        commands.open();
        thread = new Thread(() -> main(args.isEmpty() ? new String[0] : args.split(SEPARATOR, -1)),
                "align4j-generate");
        thread.start();
    }

    private void main(String[] args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        String command = context.getProperty(COMMAND);
        String prefix = "align4j " + (command == null || command.isBlank() ? "generate" : command.trim()) + ": ";
        int code;
        try {
            GenerateOptions o = GenerateOptions.parse(Arrays.asList(args));
            if (o.help) {
                out.println(GenerateOptions.USAGE);
                code = 0;
            } else {
                started.await();
                GenerateCommands c = commands.waitForService(WAIT_MILLIS);
                if (c == null) {
                    throw new IllegalStateException("the generate command did not start within " + WAIT_MILLIS / 1000
                            + " s: it needs the model bundle's services (TransformerFactory, WeightStore) and the"
                            + " TensorFlow runtime, installed and started");
                }
                out.print(c.execute(o, w -> err.println(prefix + "warning: " + w)));
                out.flush();
                code = 0;
            }
        } catch (GenerateOptions.UsageException e) {
            err.println(prefix + e.getMessage());
            err.println(GenerateOptions.USAGE);
            code = 2;
        } catch (InterruptedException e) {
            err.println(prefix + "the framework stopped first");
            code = 1;
            Thread.currentThread().interrupt();
        } catch (Exception | LinkageError e) {
            err.println(prefix + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (Boolean.parseBoolean(context.getProperty(DEBUG))) {
                e.printStackTrace(err);
            }
            code = 1;
        }
        err.flush();
        System.setProperty(EXIT_CODE, String.valueOf(code));
        try {
            context.getBundle(0).stop();
        } catch (BundleException | IllegalStateException | SecurityException e) {
            err.println(prefix + "could not stop the framework: " + e.getMessage());
        }
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
            thread.interrupt();
            thread.join(10_000);
        }
        commands.close();
    }
}
