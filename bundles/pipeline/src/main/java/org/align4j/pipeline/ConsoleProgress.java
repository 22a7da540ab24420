package org.align4j.pipeline;

import java.util.Locale;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.align4j.pipeline.internal.ProgressPrinter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Shows training on the console: a progress bar for steps (rewritten in place on a terminal, a plain line every few
 * percent or seconds otherwise) and one line for each evaluation, checkpoint, message, stage and run event.
 */
@Component(service = TrainingListener.class, configurationPid = ConsoleProgress.PID)
@Designate(ocd = ConsoleProgress.Config.class)
public final class ConsoleProgress implements TrainingListener {
    public static final String PID = "org.align4j.pipeline.console";

    @ObjectClassDefinition(name = "align4j console progress",
            description = "How training progress is printed on standard output.")
    public @interface Config {
        @AttributeDefinition(description = "auto (a progress line rewritten in place when there is a terminal),"
                + " interactive, or plain (separate lines, for logs)")
        String mode() default "auto";

        @AttributeDefinition(description = "Plain mode: print a step line each time this percentage is crossed")
        int plain_every_percent() default 5;

        @AttributeDefinition(description = "Plain mode: print a step line at least this often (seconds)")
        int plain_every_seconds() default 10;
    }

    private final ProgressPrinter printer;

    @Activate
    public ConsoleProgress(Config config) {
        String mode = config.mode().trim().toLowerCase(Locale.ROOT);
        boolean interactive;
        switch (mode) {
            case "interactive":
                interactive = true;
                break;
            case "plain":
                interactive = false;
                break;
            case "auto":
                interactive = System.console() != null;
                break;
            default:
                throw new IllegalArgumentException(PID + ": mode: expected auto, interactive or plain, got \""
                        + config.mode() + "\"");
        }
        this.printer = new ProgressPrinter(() -> System.out, interactive, config.plain_every_percent(),
                config.plain_every_seconds() * 1000L);
    }

    @Override
    public void onEvent(TrainingEvent event) {
        printer.onEvent(event);
    }
}
