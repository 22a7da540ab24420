package org.align4j.pipeline.internal;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;
import org.align4j.api.runs.PipelineCheck;
import org.align4j.api.runs.PluginDescription;
import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunLogLine;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunSample;
import org.align4j.api.runs.RunService;
import org.align4j.api.train.Trainer;

/**
 * The run queue behind {@link RunService}: submitted runs are checked, queued, and started in threads of their own,
 * at most {@code maxConcurrent} at a time (a queued run whose name or folder is in use waits for it). It follows
 * every run through the event bus (it is a {@link TrainingListener}): stage, step, ETA, the reward model in use,
 * metrics and log lines, kept in memory within limits.
 */
public final class Runs implements RunService, TrainingListener {
    /** Samples kept per run; beyond it every other old sample is dropped, so a long run keeps its whole shape. */
    static final int MAX_SAMPLES = 20_000;
    /** Log lines kept per run (the newest). */
    static final int MAX_LOG_LINES = 2_000;
    /** Ended runs kept with their metrics and log (the newest); older ones are forgotten. */
    static final int MAX_ENDED_RUNS = 50;

    /** What the queue needs of the engine. */
    public interface Engine {
        PipelinePlan check(RunRequest request);

        RunOutcome run(RunRequest request, Consumer<RunState> started) throws RunFailure;
    }

    /** Re-targets the reward model of a running stage (ConfigAdmin in OSGi). */
    public interface Retargeter {
        void retarget(String run, PipelinePlan.Stage stage, String name, String version);
    }

    private final Engine engine;
    private final Supplier<List<PluginDescription>> plugins;
    private final Retargeter retargeter;
    private final int maxConcurrent;
    private final LongSupplier clock;
    private final Consumer<String> log;
    private final List<Entry> entries = new ArrayList<>(); // oldest first
    private final Map<String, Entry> activeByName = new HashMap<>();
    private final Set<String> names = new HashSet<>();
    private int running;
    private volatile boolean closed;

    public Runs(Engine engine, Supplier<List<PluginDescription>> plugins, Retargeter retargeter, int maxConcurrent,
            LongSupplier clock, Consumer<String> log) {
        this.engine = engine;
        this.plugins = plugins;
        this.retargeter = retargeter;
        this.maxConcurrent = Math.max(1, maxConcurrent);
        this.clock = clock;
        this.log = log;
    }

    public int maxConcurrent() {
        return maxConcurrent;
    }

    @Override
    public PipelineCheck check(RunRequest request) {
        PipelinePlan plan = engine.check(request);
        List<PipelineCheck.Stage> stages = new ArrayList<>();
        for (PipelinePlan.Stage s : plan.stages()) {
            stages.add(new PipelineCheck.Stage(s.label(), s.dir()));
        }
        return new PipelineCheck(plan.source(), plan.name(), plan.seed(), plan.workDir(), stages);
    }

    @Override
    public List<PluginDescription> plugins() {
        return plugins.get();
    }

    @Override
    public RunInfo submit(RunRequest request) {
        Entry e = enter(request, "queued");
        schedule();
        return e.info();
    }

    private Entry enter(RunRequest request, String how) {
        if (closed) {
            throw new IllegalStateException("the run service is stopping; no new runs are taken");
        }
        PipelinePlan plan = engine.check(request);
        synchronized (this) {
            String id = plan.name();
            for (int n = 2; names.contains(id); n++) {
                id = plan.name() + "~" + n;
            }
            names.add(id);
            Entry e = new Entry(id, request, plan, clock.getAsLong());
            entries.add(e);
            forgetOldRuns();
            e.line(how + " from " + request.origin() + ": " + plan.source());
            return e;
        }
    }

    /**
     * Runs {@code request} in the calling thread, outside the queue's slots (the programmatic
     * {@link org.align4j.api.pipeline.PipelineRunner}), listed and followed like any run: the console shows it and
     * can pause or stop it.
     *
     * @throws RunFailure when it failed after it started; an invalid file throws before anything runs
     */
    public RunOutcome runHere(RunRequest request) throws RunFailure {
        Entry e = enter(request, "started");
        synchronized (this) {
            if (conflicts(e)) {
                e.finish(org.align4j.api.runs.RunState.FAILED, "run " + e.plan.name() + " is already running", "",
                        RunOutcome.EXIT_FAILED, null);
                throw new IllegalStateException("run " + e.plan.name() + " (" + e.plan.workDir() + ") is already"
                        + " running; stop it first (align4j:stop " + e.plan.name() + ") or give this run another"
                        + " run.name and run.workdir");
            }
            e.state = org.align4j.api.runs.RunState.RUNNING;
            e.started = clock.getAsLong();
            activeByName.put(e.plan.name(), e);
        }
        execute(e, false);
        if (e.failure instanceof RunFailure f) {
            throw f;
        }
        if (e.failure instanceof RuntimeException r) {
            throw r;
        }
        if (e.failure instanceof Error err) {
            throw err;
        }
        return e.outcome;
    }

    /** Drops the oldest ended runs beyond {@link #MAX_ENDED_RUNS} (their files stay on disk). */
    private synchronized void forgetOldRuns() {
        long ended = entries.stream().filter(x -> x.state.ended()).count();
        for (java.util.Iterator<Entry> it = entries.iterator(); it.hasNext() && ended > MAX_ENDED_RUNS;) {
            if (it.next().state.ended()) {
                it.remove();
                ended--;
            }
        }
    }

    /** Starts queued runs while slots are free. */
    private void schedule() {
        List<Entry> start = new ArrayList<>();
        synchronized (this) {
            for (Entry e : entries) {
                if (running >= maxConcurrent || closed) {
                    break;
                }
                if (e.state == org.align4j.api.runs.RunState.QUEUED && !conflicts(e)) {
                    e.state = org.align4j.api.runs.RunState.RUNNING;
                    e.started = clock.getAsLong();
                    activeByName.put(e.plan.name(), e);
                    running++;
                    start.add(e);
                }
            }
        }
        for (Entry e : start) {
            Thread t = new Thread(() -> execute(e, true), "align4j-run-" + e.id);
            t.setDaemon(false);
            t.start();
        }
    }

    private boolean conflicts(Entry e) {
        for (Entry a : activeByName.values()) {
            if (a.plan.name().equals(e.plan.name()) || a.plan.workDir().equals(e.plan.workDir())) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code e} in this thread; {@code slot}: it holds one of the queue's slots, given back at its end. */
    private void execute(Entry e, boolean slot) {
        try {
            RunOutcome outcome = engine.run(e.request, state -> e.attach(state));
            e.outcome = outcome;
            e.finish(outcome.stopped() ? org.align4j.api.runs.RunState.STOPPED
                    : org.align4j.api.runs.RunState.COMPLETED, outcome.stopReason(), outcome.toString(),
                    outcome.exitCode(), null);
        } catch (RunFailure f) {
            e.finish(org.align4j.api.runs.RunState.FAILED, Texts.message(f), "", RunOutcome.exitCode(f), f);
        } catch (IllegalStateException | IllegalArgumentException x) { // SettingsException too
            e.finish(org.align4j.api.runs.RunState.FAILED, Texts.message(x), "", RunOutcome.exitCode(x), x);
        } catch (RuntimeException | Error x) {
            e.finish(org.align4j.api.runs.RunState.FAILED, Texts.message(x), "", RunOutcome.EXIT_FAILED, x);
            log.accept("run " + e.id + " failed: " + Texts.message(x));
        } finally {
            synchronized (this) {
                activeByName.remove(e.plan.name(), e);
                if (slot) {
                    running--;
                }
            }
            schedule();
        }
    }

    @Override
    public synchronized List<RunInfo> runs() {
        List<RunInfo> out = new ArrayList<>();
        for (int i = entries.size() - 1; i >= 0; i--) {
            out.add(entries.get(i).info());
        }
        return out;
    }

    @Override
    public Optional<RunInfo> run(String id) {
        return find(id).map(Entry::info);
    }

    private synchronized Optional<Entry> find(String id) {
        for (Entry e : entries) {
            if (e.id.equals(id)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    private Entry get(String id) {
        return find(id).orElseThrow(() -> new NoSuchElementException("no run " + id + " (runs: "
                + Texts.list(runs().stream().map(RunInfo::id).toList()) + ")"));
    }

    @Override
    public RunInfo await(String id, Duration timeout) throws InterruptedException {
        Entry e = get(id);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (e) {
            while (!e.state.ended()) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    break;
                }
                e.wait(left);
            }
        }
        return e.info();
    }

    @Override
    public RunInfo stop(String id, String reason) {
        Entry e = get(id);
        String why = reason == null || reason.isBlank() ? "stop requested" : reason;
        boolean dropped = false;
        synchronized (this) {
            if (e.state == org.align4j.api.runs.RunState.QUEUED) {
                e.finish(org.align4j.api.runs.RunState.STOPPED, why + " (before it started)", "",
                        RunOutcome.EXIT_STOPPED, null);
                dropped = true;
            }
        }
        if (!dropped) {
            e.requestStop(why);
        }
        return e.info();
    }

    @Override
    public RunInfo pause(String id) {
        return get(id).pause();
    }

    @Override
    public RunInfo resume(String id) {
        return get(id).resume();
    }

    @Override
    public List<RunSample> metrics(String id, long after) {
        return get(id).samples(after);
    }

    @Override
    public List<RunLogLine> log(String id, long after) {
        return get(id).lines(after);
    }

    @Override
    public RunInfo retargetReward(String id, String name, String version) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("which reward model? give its name (align4j.name of the service)");
        }
        Entry e = get(id);
        PipelinePlan.Stage stage = e.currentStage().orElseThrow(() -> new IllegalStateException("run " + id
                + " is " + e.info().state().name().toLowerCase(java.util.Locale.ROOT)
                + ", not in a stage; only a running stage's reward model can be switched"));
        if (!rewardStage(stage)) {
            throw new IllegalStateException("run " + id + " is in stage " + stage.label()
                    + ", which scores with no reward model (no reward_model key)");
        }
        retargeter.retarget(e.plan.name(), stage, name.trim(), version == null ? "" : version.trim());
        e.line("reward model switch asked: " + name.trim() + (version == null || version.isBlank() ? ""
                : " " + version.trim()) + " from the next rollout of stage " + stage.label());
        return e.info();
    }

    static boolean rewardStage(PipelinePlan.Stage stage) {
        Map<String, Object> c = stage.configuration();
        return c.containsKey(Trainer.REWARD_MODEL) || c.containsKey(Trainer.REWARD_MODEL_NAME);
    }

    /** Stops taking runs and asks every run to stop; returns the ids still going after {@code wait}. */
    public List<String> close(String reason, Duration wait) throws InterruptedException {
        closed = true;
        List<Entry> all;
        synchronized (this) {
            all = new ArrayList<>(entries);
        }
        for (Entry e : all) {
            if (e.state == org.align4j.api.runs.RunState.QUEUED) {
                stop(e.id, reason);
            } else if (!e.state.ended()) {
                e.requestStop(reason);
            }
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<String> left = new ArrayList<>();
        for (Entry e : all) {
            long ms = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            if (!await(e.id, Duration.ofMillis(ms)).state().ended()) {
                left.add(e.id);
            }
        }
        return left;
    }

    @Override
    public void onEvent(TrainingEvent event) {
        Entry e;
        synchronized (this) {
            e = activeByName.get(event.run());
        }
        if (e != null) {
            e.onEvent(event);
        }
    }

    /** One submitted run. Guarded by its own monitor. */
    private final class Entry {
        final String id;
        final RunRequest request;
        final PipelinePlan plan;
        final long submitted;
        volatile org.align4j.api.runs.RunState state = org.align4j.api.runs.RunState.QUEUED;
        long started;
        long ended;
        String message = "";
        String summary = "";
        int exitCode = -1;
        Throwable failure;
        RunOutcome outcome;
        RunState control;
        String pendingStop;
        boolean pendingPause;
        String stage = "";
        long step;
        long totalSteps;
        String rewardModel = "";
        // ETA: the stage's first step and time, and the time spent paused since
        long etaStep = -1;
        long etaTime;
        long pausedSince;
        long pausedMillis;
        final List<RunSample> samples = new ArrayList<>();
        long sampleSeq;
        final ArrayDeque<RunLogLine> lines = new ArrayDeque<>();
        long lineSeq;
        final ProgressPrinter printer;

        Entry(String id, RunRequest request, PipelinePlan plan, long submitted) {
            this.id = id;
            this.request = request;
            this.plan = plan;
            this.submitted = submitted;
            PrintStream sink = new PrintStream(new LineSink(this::line), true, StandardCharsets.UTF_8);
            this.printer = new ProgressPrinter(() -> sink, false, 10, 30_000);
        }

        synchronized void attach(RunState s) {
            control = s;
            s.onPause(waiting -> paused(waiting));
            if (pendingPause) {
                s.pause();
            }
            if (pendingStop != null) {
                s.requestStop(pendingStop);
            }
        }

        synchronized void paused(boolean waiting) {
            long now = clock.getAsLong();
            if (waiting) {
                pausedSince = now;
                line("paused at stage " + stage + " step " + step + " (resume or stop it)");
            } else {
                pausedMillis += now - pausedSince;
                pausedSince = 0;
                line(control != null && control.stopAsked() ? "stopping" : "resumed at step " + step);
            }
        }

        synchronized void requestStop(String why) {
            if (state.ended()) {
                return;
            }
            line("stop asked: " + why);
            if (control != null) {
                control.requestStop(why);
            } else {
                pendingStop = why;
            }
        }

        synchronized RunInfo pause() {
            if (state != org.align4j.api.runs.RunState.RUNNING) {
                throw new IllegalStateException("run " + id + " is " + name(state) + "; only a running run pauses");
            }
            state = org.align4j.api.runs.RunState.PAUSED;
            line("pause asked: the run waits at its next step boundary");
            if (control != null) {
                control.pause();
            } else {
                pendingPause = true;
            }
            return info();
        }

        synchronized RunInfo resume() {
            if (state != org.align4j.api.runs.RunState.PAUSED) {
                throw new IllegalStateException("run " + id + " is " + name(state) + "; only a paused run resumes");
            }
            state = org.align4j.api.runs.RunState.RUNNING;
            pendingPause = false;
            if (control != null) {
                control.resume();
            }
            return info();
        }

        synchronized void finish(org.align4j.api.runs.RunState end, String why, String text, int code,
                Throwable cause) {
            if (state.ended()) {
                return;
            }
            failure = cause;
            state = end;
            ended = clock.getAsLong();
            message = why == null ? "" : why;
            summary = text;
            exitCode = code;
            line("run " + name(end) + (message.isEmpty() ? "" : ": " + message));
            notifyAll();
        }

        synchronized Optional<PipelinePlan.Stage> currentStage() {
            if (state.ended() || stage.isEmpty()) {
                return Optional.empty();
            }
            for (PipelinePlan.Stage s : plan.stages()) {
                if (s.label().equals(stage)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        }

        synchronized void onEvent(TrainingEvent ev) {
            printer.onEvent(ev);
            switch (ev.kind()) {
                case STAGE_STARTED:
                    stage = ev.stage();
                    step = ev.step();
                    totalSteps = ev.totalSteps();
                    etaStep = -1;
                    pausedMillis = 0;
                    rewardModel = "";
                    break;
                case STEP:
                    stage = ev.stage().isEmpty() ? stage : ev.stage();
                    step = ev.step();
                    totalSteps = ev.totalSteps() > 0 ? ev.totalSteps() : totalSteps;
                    if (etaStep < 0) {
                        etaStep = ev.step();
                        etaTime = ev.timeMillis();
                        pausedMillis = 0;
                    }
                    String rm = ev.labels().get("reward_model");
                    if (rm != null) {
                        rewardModel = rm;
                    }
                    sample(ev, RunSample.Kind.STEP);
                    break;
                case EVALUATION:
                    sample(ev, RunSample.Kind.EVALUATION);
                    break;
                default:
                    break;
            }
        }

        private void sample(TrainingEvent ev, RunSample.Kind kind) {
            if (ev.metrics().isEmpty()) {
                return;
            }
            if (samples.size() >= MAX_SAMPLES) {
                List<RunSample> kept = new ArrayList<>(samples.size() / 2 + 1);
                for (int i = 0; i < samples.size(); i += 2) {
                    kept.add(samples.get(i));
                }
                samples.clear();
                samples.addAll(kept);
            }
            samples.add(new RunSample(++sampleSeq, ev.timeMillis(), ev.stage(), ev.step(), kind, ev.metrics()));
        }

        synchronized void line(String text) {
            lines.add(new RunLogLine(++lineSeq, clock.getAsLong(), text));
            while (lines.size() > MAX_LOG_LINES) {
                lines.removeFirst();
            }
        }

        synchronized List<RunSample> samples(long after) {
            List<RunSample> out = new ArrayList<>();
            for (RunSample s : samples) {
                if (s.seq() > after) {
                    out.add(s);
                }
            }
            return out;
        }

        synchronized List<RunLogLine> lines(long after) {
            List<RunLogLine> out = new ArrayList<>();
            for (RunLogLine l : lines) {
                if (l.seq() > after) {
                    out.add(l);
                }
            }
            return out;
        }

        synchronized double eta() {
            if (state != org.align4j.api.runs.RunState.RUNNING || etaStep < 0 || totalSteps <= 0 || step <= etaStep) {
                return -1;
            }
            long now = clock.getAsLong();
            double active = now - etaTime - pausedMillis - (pausedSince > 0 ? now - pausedSince : 0);
            double perStep = active / (step - etaStep);
            return Math.max(0, (totalSteps - step) * perStep / 1000.0);
        }

        synchronized RunInfo info() {
            Optional<PipelinePlan.Stage> current = state.ended() ? Optional.empty() : currentStage();
            String note = message;
            if (state == org.align4j.api.runs.RunState.PAUSED && note.isEmpty()) {
                note = pausedSince > 0 ? "paused at step " + step : "pausing at the next step boundary";
            }
            return new RunInfo(id, plan.name(), request.file(), plan.workDir(), state, stage, step, totalSteps,
                    eta(), submitted, state == org.align4j.api.runs.RunState.QUEUED ? 0 : started, ended, note,
                    rewardModel, current.map(Runs::rewardStage).orElse(false), summary, exitCode, trace(failure));
        }
    }

    static String trace(Throwable t) {
        if (t == null) {
            return "";
        }
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    static String name(org.align4j.api.runs.RunState s) {
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Splits what the progress printer writes into lines. */
    private static final class LineSink extends OutputStream {
        private final Consumer<String> sink;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        LineSink(Consumer<String> sink) {
            this.sink = sink;
        }

        @Override
        public void write(int b) {
            if (b == '\n') {
                flushLine();
            } else if (b != '\r') {
                buf.write(b);
            }
        }

        private void flushLine() {
            String s = buf.toString(StandardCharsets.UTF_8);
            buf.reset();
            if (!s.isBlank()) {
                sink.accept(s);
            }
        }

        @Override
        public void flush() {
            // lines are passed on at their newline only
        }
    }
}
