package org.align4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.runs.PluginDescription;
import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunSample;
import org.align4j.api.runs.RunState;
import org.junit.jupiter.api.Test;

class TablesTest {

    @Test
    void thePluginTableAlignsItsColumns() {
        PluginTable t = new PluginTable(List.of(
                new PluginDescription("attention kernel", "mha", "org.align4j.attention.standard", "0.1.0", Map.of()),
                new PluginDescription("loss: lm", "causal-lm", "org.align4j.loss.lm", "0.1.0", Map.of())));
        assertEquals(String.join("\n",
                "KIND              NAME       BUNDLE                          VERSION",
                "attention kernel  mha        org.align4j.attention.standard  0.1.0",
                "loss: lm          causal-lm  org.align4j.loss.lm             0.1.0",
                ""), t.toString().replace("\r\n", "\n"));
        assertEquals("(no align4j plugin is registered)\n", new PluginTable(List.of()).toString());
    }

    @Test
    void theRunTableShowsStateStageStepAndEta() {
        RunInfo running = new RunInfo("tiny", "tiny", Path.of("t.yaml"), Path.of("runs/tiny"), RunState.RUNNING,
                "0:pretrain", 120, 600, 75.5, 1, 2, 0, "", "", false, "", -1, "");
        RunInfo queued = new RunInfo("tiny~2", "tiny", Path.of("t.yaml"), Path.of("runs/tiny"), RunState.QUEUED,
                "", 0, 0, -1, 3, 0, 0, "", "", false, "", -1, "");
        assertEquals(String.join("\n",
                "RUN     STATE    STAGE       STEP     ETA    MESSAGE",
                "tiny    running  0:pretrain  120/600  1m15s",
                "tiny~2  queued",
                ""), new RunTable(List.of(running, queued)).toString());
    }

    @Test
    void theMetricTableShowsTheNewestValuesOrOneMetricsHistory() {
        List<RunSample> s = List.of(
                new RunSample(1, 0, "0:pretrain", 1, RunSample.Kind.STEP, Map.of("loss", 3.5, "learning_rate", 3e-4)),
                new RunSample(2, 0, "0:pretrain", 2, RunSample.Kind.STEP, Map.of("loss", 2.25)),
                new RunSample(3, 0, "0:pretrain", 2, RunSample.Kind.EVALUATION, Map.of("eval_loss", 2.5)));
        String all = new MetricTable(s, null).toString();
        assertTrue(all.contains("loss           2.25"), all);
        assertTrue(all.contains("learning_rate  0.0003"), all);
        assertTrue(all.contains("eval_loss      2.5"), all);
        assertEquals(String.join("\n", "STAGE  STEP  loss", "0:pretrain  1     3.5", "0:pretrain  2     2.25", ""),
                new MetricTable(s, "loss").toString());
        assertEquals("no values of kl yet\n", new MetricTable(s, "kl").toString());
    }

    @Test
    void gogoPiecesOfAnOverrideAreJoinedBack() {
        // Gogo splits stages[0].steps=600 at its list brackets: "stages", the list [0], ".steps=600"
        assertEquals(List.of("stages[0].steps=600", "run.name=x"),
                ShellCommands.rejoin("stages", List.of(0), ".steps=600", "run.name=x"));
        assertEquals(List.of("stages.0.steps=600"), ShellCommands.rejoin("stages.0.steps=600"));
        assertEquals(List.of("steps"), ShellCommands.rejoin("steps"));
        SettingsException e = assertThrows(SettingsException.class, () -> RunRequest.of(Path.of("x.yaml"),
                ShellCommands.rejoin("steps")));
        assertTrue(e.getMessage().contains("expected key=value"), e.getMessage());
    }

    @Test
    void durationsAndNumbersReadWell() {
        assertEquals("45s", Format.duration(45_900));
        assertEquals("2m05s", Format.duration(125_000));
        assertEquals("1h02m", Format.duration(3_720_000));
        assertEquals("3", Format.number(3.0));
        assertEquals("0.0003", Format.number(3e-4));
        assertEquals("1.2346e-07", Format.number(1.23456e-7));
        assertEquals("NaN", Format.number(Double.NaN));
    }
}
