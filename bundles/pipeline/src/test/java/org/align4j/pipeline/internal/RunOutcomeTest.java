package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.PipelineRunner.RunReport;
import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.train.TrainingResult;
import org.align4j.api.train.TrainingResult.Status;
import org.junit.jupiter.api.Test;

class RunOutcomeTest {

    private static Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("trained_steps", 2000L);
        c.put("skipped_lines", 2L);
        c.put("documents", 40L);
        return c;
    }

    @Test
    void aCompletedRunListsEachStagesMetricsSamplesAndTheCounters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("eval_loss", 1.23456);
        m.put("eval_perplexity", 3.4368);
        TrainingResult r = new TrainingResult(Status.COMPLETED, 2000, m, List.of("12+3=15", "two\nlines"),
                Path.of("runs/tiny/stage-0-pretrain/final"));
        RunOutcome o = new RunOutcome("x.yaml", new RunReport("tiny", Path.of("runs/tiny"), List.of(r), counters()),
                List.of("0:pretrain"), "", 723_000);
        assertEquals(0, o.exitCode());
        assertEquals(String.join("\n",
                "run tiny completed in 12m03s (runs/tiny)",
                "  stage 0:pretrain completed at step 2000: eval_loss 1.2346, eval_perplexity 3.4368",
                "    output: runs/tiny/stage-0-pretrain/final",
                "    sample 1: 12+3=15",
                "    sample 2: two",
                "              lines",
                "  summary: documents 40, skipped_lines 2, trained_steps 2000",
                ""), o.toString());
    }

    @Test
    void aStoppedRunSaysWhyAndHowToResume() {
        TrainingResult r = new TrainingResult(Status.STOPPED, 340, Map.of(), List.of(),
                Path.of("runs/tiny/stage-0-pretrain/checkpoint-340"));
        RunOutcome o = new RunOutcome("x.yaml", new RunReport("tiny", Path.of("runs/tiny"), List.of(r), counters()),
                List.of("0:pretrain"), "align4j:stop command", 5_000);
        assertEquals(RunOutcome.EXIT_STOPPED, o.exitCode());
        assertEquals(String.join("\n",
                "run tiny stopped in 5s (runs/tiny): align4j:stop command",
                "  stage 0:pretrain stopped at step 340",
                "    output: runs/tiny/stage-0-pretrain/checkpoint-340",
                "  summary: documents 40, skipped_lines 2, trained_steps 2000",
                "  to resume, run the same pipeline again (x.yaml, same overrides): completed stages finish at once"
                        + " and stage 0:pretrain continues from its newest checkpoint",
                ""), o.toString());
    }

    @Test
    void exitCodesOfFailures() {
        assertEquals(2, RunOutcome.exitCode(new SettingsException("x.yaml", "run.name", "bad")));
        assertEquals(1, RunOutcome.exitCode(new RunFailure("tiny", "data", new IllegalStateException("x"))));
        assertEquals(2, RunOutcome.exitCode(new RunFailure("tiny", "0:pretrain",
                new SettingsException("x.yaml", "stages[0].batch", "expected a whole number"))));
    }
}
