package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingEvent.Kind;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
    static final long T0 = 1_000_000L;

    static TrainingEvent step(long step, long total, long millis) {
        return TrainingEvent.builder(Kind.STEP, "tiny").stage("0:pretrain").step(step).totalSteps(total)
                .time(T0 + millis).metric(MetricNames.LOSS, 2.345678).metric(MetricNames.LEARNING_RATE, 3.0e-4)
                .metric(MetricNames.TOKENS_PER_SECOND, 12_345).build();
    }

    @Test
    void aStepLineShowsProgressLossRateSpeedAndEta() {
        // first step seen at t=0 (step 100); at step 500, 400 steps took 40 s: 1500 left take 150 s
        assertEquals("tiny 0:pretrain [#####---------------]  500/2000  25%  loss 2.3457  lr 3.00e-04  12.3k tok/s"
                + "  ETA 2m30s", ProgressPrinter.stepLine(step(500, 2000, 40_000), 100, T0));
        assertEquals("tiny 0:pretrain [--------------------]    1/2000   0%  loss 2.3457  lr 3.00e-04  12.3k tok/s"
                + "  ETA --", ProgressPrinter.stepLine(step(1, 2000, 0), 1, T0));
        assertEquals("tiny 0:pretrain [####################] 2000/2000 100%  loss 2.3457  lr 3.00e-04  12.3k tok/s"
                + "  done in 3m20s", ProgressPrinter.stepLine(step(2000, 2000, 200_000), 0, T0));
        TrainingEvent bare = TrainingEvent.builder(Kind.STEP, "r").stage("1:sft").step(7).time(T0 + 9000).build();
        assertEquals("r 1:sft step 7  9s", ProgressPrinter.stepLine(bare, 0, T0));
    }

    @Test
    void otherEventsArePlainLines() {
        TrainingEvent.Builder b = TrainingEvent.builder(Kind.EVALUATION, "tiny").stage("0:pretrain").step(200);
        assertEquals("tiny 0:pretrain eval at step 200: eval_loss 1.2346, eval_perplexity 3.4368",
                ProgressPrinter.line(b.metric("eval_loss", 1.23456).metric("eval_perplexity", 3.43678).build()));
        assertEquals("tiny 0:pretrain checkpoint at step 200: runs/tiny/stage-0-pretrain/checkpoint-200",
                ProgressPrinter.line(TrainingEvent.builder(Kind.CHECKPOINT, "tiny").stage("0:pretrain").step(200)
                        .message("runs/tiny/stage-0-pretrain/checkpoint-200").build()));
        assertEquals("tiny: data: 40 documents", ProgressPrinter.line(TrainingEvent.builder(Kind.MESSAGE, "tiny")
                .message("data: 40 documents").build()));
        assertEquals("run tiny started: examples/tiny.yaml", ProgressPrinter.line(TrainingEvent.builder(
                Kind.RUN_STARTED, "tiny").message("examples/tiny.yaml").build()));
        assertEquals("stage 0:pretrain of run tiny started (2000 steps)", ProgressPrinter.line(TrainingEvent.builder(
                Kind.STAGE_STARTED, "tiny").stage("0:pretrain").totalSteps(2000).build()));
        assertEquals("run tiny stopped: align4j:stop command; run the same pipeline again to resume",
                ProgressPrinter.line(TrainingEvent.builder(Kind.RUN_FAILED, "tiny")
                        .message("stopped: align4j:stop command; run the same pipeline again to resume").build()));
        assertEquals("run tiny failed: 0:pretrain: out of memory", ProgressPrinter.line(TrainingEvent.builder(
                Kind.RUN_FAILED, "tiny").message("0:pretrain: out of memory").build()));
    }

    private static List<String> print(boolean interactive, List<TrainingEvent> events) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressPrinter p = new ProgressPrinter(() -> out, interactive, 5, 10_000);
        events.forEach(p::onEvent);
        return List.of(bytes.toString(StandardCharsets.UTF_8).split("\n", -1));
    }

    @Test
    void plainModePrintsEveryFivePercentOrEveryTenSeconds() {
        List<TrainingEvent> events = new java.util.ArrayList<>();
        for (int s = 1; s <= 100; s++) {
            events.add(step(s, 100, s * 100L)); // 0.1 s a step: the 5% boundaries come first
        }
        List<String> lines = print(false, events);
        // step 1, then 5, 10, ..., 100: 21 lines (and the empty string after the last newline)
        assertEquals(22, lines.size());
        assertEquals("tiny 0:pretrain [--------------------]   1/100   1%", lines.get(0).substring(0, 51));
        assertEquals("tiny 0:pretrain [#-------------------]   5/100   5%", lines.get(1).substring(0, 51));
        assertEquals("tiny 0:pretrain [####################] 100/100 100%", lines.get(20).substring(0, 51));
        assertEquals("", lines.get(21));

        List<TrainingEvent> slow = new java.util.ArrayList<>();
        for (int s = 1; s <= 30; s++) {
            slow.add(step(s, 1000, s * 4000L)); // 4 s a step, far from 5%: a line every 10 s
        }
        List<String> slowLines = print(false, slow);
        assertEquals(List.of(1L, 4L, 7L, 10L, 13L, 16L, 19L, 22L, 25L, 28L), slowLines.stream()
                .filter(l -> !l.isEmpty()).map(l -> Long.parseLong(l.replaceAll("^.*\\] +(\\d+)/.*$", "$1")))
                .toList());
    }

    @Test
    void interactiveModeRewritesOneLineAndEndsItBeforeOtherLines() {
        List<String> lines = print(true, List.of(step(1, 3, 0), step(2, 3, 1000),
                TrainingEvent.builder(Kind.EVALUATION, "tiny").stage("0:pretrain").step(2).metric("eval_loss", 1.5)
                        .build(),
                step(3, 3, 2000)));
        assertEquals(4, lines.size());
        String first = lines.get(0);
        assertEquals(2, first.chars().filter(c -> c == '\r').count());
        assertEquals(true, first.startsWith("\rtiny 0:pretrain [######--------------] 1/3  33%"));
        assertEquals("tiny 0:pretrain eval at step 2: eval_loss 1.5000", lines.get(1));
        assertEquals(true, lines.get(2).startsWith("\rtiny 0:pretrain [####################] 3/3 100%"));
        assertEquals(true, lines.get(2).endsWith("done in 2s"));
        assertEquals("", lines.get(3));
    }
}
