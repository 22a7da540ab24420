package org.align4j.metrics;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
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
 * Appends every metric of a run to {@code <workdir>/metrics.csv}, one row per metric value (the long form, so rows of
 * stages with different metrics share one header):
 *
 * <pre>
 * time,run,stage,kind,step,metric,value
 * 2026-12-02T11:02:14.250Z,tiny,0:pretrain,STEP,10,loss,4.125
 * </pre>
 *
 * Fields with a comma, a quote or a line break are quoted (RFC 4180); each event's rows are flushed together. Off by
 * default: {@code deploy/org.align4j.metrics.csv.cfg} with {@code enabled=true} turns it on.
 */
@Component(service = TrainingListener.class, configurationPid = CsvMetricsLog.PID)
@Designate(ocd = CsvMetricsLog.Config.class)
public final class CsvMetricsLog implements TrainingListener {
    public static final String PID = "org.align4j.metrics.csv";
    public static final String FILE = "metrics.csv";
    static final String HEADER = "time,run,stage,kind,step,metric,value";

    @ObjectClassDefinition(name = "align4j CSV metrics",
            description = "Appends the metrics of every run to metrics.csv under its workdir.")
    public @interface Config {
        @AttributeDefinition(description = "Write metrics.csv")
        boolean enabled() default false;
    }

    private final boolean enabled;
    private final RunFiles<Writer> files = new RunFiles<>(FILE);

    @Activate
    public CsvMetricsLog(Config config) {
        this.enabled = config.enabled();
    }

    @Override
    public synchronized void onEvent(TrainingEvent event) {
        if (!enabled || event.workDir() == null) {
            return;
        }
        Path file = event.workDir().resolve(FILE);
        if (!event.metrics().isEmpty()) {
            try {
                Writer w = files.get(event.run(), file, f -> {
                    Files.createDirectories(event.workDir());
                    boolean fresh = !Files.exists(f) || Files.size(f) == 0;
                    Writer out = Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                    if (fresh) {
                        out.write(HEADER + "\n");
                    }
                    return out;
                });
                String prefix = String.join(",", java.time.Instant.ofEpochMilli(event.timeMillis()).toString(),
                        field(event.run()), field(event.stage()), event.kind().name(), Long.toString(event.step()));
                StringBuilder rows = new StringBuilder();
                for (Map.Entry<String, Double> m : event.metrics().entrySet()) {
                    rows.append(prefix).append(',').append(field(m.getKey())).append(',')
                            .append(number(m.getValue())).append('\n');
                }
                w.write(rows.toString());
                w.flush();
            } catch (IOException e) {
                files.failed(event.run(), file, e);
            }
        }
        if (event.kind() == TrainingEvent.Kind.RUN_FINISHED || event.kind() == TrainingEvent.Kind.RUN_FAILED) {
            files.close(event.run(), file);
        }
    }

    /** A CSV field: quoted, with quotes doubled, when it holds a comma, a quote or a line break. */
    static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** A value as a spreadsheet reads it: the shortest decimal that round-trips; NaN and Infinity spelt out. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
                : Double.toString(v).toLowerCase(Locale.ROOT);
    }

    @Deactivate
    synchronized void deactivate() {
        files.closeAll();
    }
}
