package org.align4j.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.align4j.api.metrics.TrainingEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.csv: one row per metric under one header, quoted where a field needs it, appended to by a resumed run. */
class CsvMetricsLogTest {

    @TempDir
    Path dir;

    static CsvMetricsLog.Config config(boolean enabled) {
        return new CsvMetricsLog.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return CsvMetricsLog.Config.class;
            }

            @Override
            public boolean enabled() {
                return enabled;
            }
        };
    }

    private TrainingEvent step(String run, String stage, long step, String metric, double value) {
        return TrainingEvent.builder(TrainingEvent.Kind.STEP, run).stage(stage).step(step).time(1_796_210_364_250L)
                .metric(metric, value).workDir(dir).build();
    }

    @Test
    void everyMetricIsARowUnderOneHeaderAndAResumedRunAppends() throws IOException {
        CsvMetricsLog log = new CsvMetricsLog(config(true));
        log.onEvent(TrainingEvent.builder(TrainingEvent.Kind.STEP, "tiny").stage("0:pretrain").step(10)
                .time(1_796_210_364_250L).metric("loss", 4.125).metric("learning_rate", 3e-4).workDir(dir).build());
        log.onEvent(step("tiny", "1:ppo", 2, "objective/kl", Double.NaN));
        log.deactivate();
        CsvMetricsLog again = new CsvMetricsLog(config(true)); // a resumed run: the same file, no second header
        again.onEvent(step("tiny, \"quoted\"", "1:ppo", 3, "reward", 2));
        again.onEvent(TrainingEvent.builder(TrainingEvent.Kind.RUN_FINISHED, "tiny, \"quoted\"").workDir(dir).build());
        List<String> lines = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(List.of(
                "time,run,stage,kind,step,metric,value",
                "2026-12-02T11:19:24.250Z,tiny,0:pretrain,STEP,10,loss,4.125",
                "2026-12-02T11:19:24.250Z,tiny,0:pretrain,STEP,10,learning_rate,3.0e-4",
                "2026-12-02T11:19:24.250Z,tiny,1:ppo,STEP,2,objective/kl,NaN",
                "2026-12-02T11:19:24.250Z,\"tiny, \"\"quoted\"\"\",1:ppo,STEP,3,reward,2"), lines);
    }

    @Test
    void offByDefault() {
        CsvMetricsLog log = new CsvMetricsLog(config(false));
        log.onEvent(step("tiny", "0:sft", 1, "loss", 1));
        assertTrue(!Files.exists(dir.resolve("metrics.csv")));
    }
}
