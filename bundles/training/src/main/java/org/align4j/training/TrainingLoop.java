package org.align4j.training;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.align4j.api.metrics.MetricNames;
import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.model.Checkpoint;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.ModelConfig;
import org.align4j.api.model.Parameter;
import org.align4j.api.model.TensorData;
import org.align4j.api.model.Transformer;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.optim.OptimizerStep;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.train.TrainingContext;
import org.align4j.api.train.TrainingResult;
import org.align4j.training.internal.VariableIO;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The training loop every trainer runs its {@link TrainingMethod} on. For one stage it:
 * <ul>
 * <li>builds one graph: the method's models (each under its own name), the method's objective, the gradients of
 * each optimizer group's loss with respect to the trainable parameters it reaches, and each group's update;</li>
 * <li>opens a session, initialises every model from the seed or its model folder, and resumes from the newest
 * checkpoint in the stage's directory (models, optimizer states, step, the method's state), refusing one written
 * with another seed;</li>
 * <li>runs the steps: feeds each group's learning rate from the schedule and the method's batch, applies the updates,
 * publishes {@code STEP} events every {@code log_every} steps, evaluates every {@code eval.every}, checkpoints every
 * {@code checkpoint.every} (atomically; the newest {@code keep} are kept);</li>
 * <li>stops at the next step when the run is asked to stop or the trainer component is deactivated, writing a
 * checkpoint there, and returns {@link TrainingResult.Status#STOPPED};</li>
 * <li>at the end evaluates, checkpoints, writes each trained model to {@code <stage>/model} ({@code model.safetensors}
 * with parameters named {@code model.<local name>}, {@code config.json}, {@code tokenizer.json}) and calls
 * {@link TrainingMethod#finish}.</li>
 * </ul>
 *
 * Checkpoint keys: a model's parameters under their names ({@code policy.blocks.0.attn.q.weight}), an optimizer
 * group's state under {@code <group>/<name>} (so two groups with one optimizer never collide), the method's state
 * under {@code method.<key>} and its tensors under {@code method/<key>}. Frozen models are not saved: they are read
 * again from their source.
 */
public final class TrainingLoop {
    /** The prefix of parameter names inside a model folder's {@code model.safetensors}. */
    public static final String FOLDER_PREFIX = "model.";

    private final TensorFlowRuntime runtime;
    private final TransformerFactory factory;
    private final CheckpointStore checkpoints;
    private final WeightStore weights;
    private final TrainerGuard guard;

    public TrainingLoop(TensorFlowRuntime runtime, TransformerFactory factory, CheckpointStore checkpoints,
            WeightStore weights, TrainerGuard guard) {
        this.runtime = runtime;
        this.factory = factory;
        this.checkpoints = checkpoints;
        this.weights = weights;
        this.guard = guard;
    }

    /** One optimizer group as built: its update, state and learning-rate input. */
    private static final class BuiltGroup {
        final String name;
        final Placeholder<TFloat32> learningRate;
        final OptimizerStep step;

        BuiltGroup(String name, Placeholder<TFloat32> learningRate, OptimizerStep step) {
            this.name = name;
            this.learningRate = learningRate;
            this.step = step;
        }
    }

    /**
     * Runs {@code method} for the stage of {@code ctx}.
     *
     * @param optimizer builds every group's update from {@code cfg.optimizer}
     * @param schedule gives every group's learning rate
     */
    public TrainingResult run(TrainingContext ctx, LoopSettings cfg, TrainingMethod method, Optimizer optimizer,
            LearningRateSchedule schedule) throws Exception {
        List<ModelSpec> specs = method.models();
        Set<String> names = new HashSet<>();
        for (ModelSpec m : specs) {
            if (!names.add(m.name())) {
                throw new IllegalArgumentException(method.name() + ": two models are named \"" + m.name() + "\"");
            }
        }
        Optional<TrainingResult> done = completed(ctx, cfg, method, specs);
        if (done.isPresent()) {
            return done.get();
        }
        try (Graph g = new Graph()) {
            Ops tf = runtime.ops(g);
            StageRun.Models models = new StageRun.Models();
            for (ModelSpec m : specs) {
                models.add(m, factory.create(tf, m.prefix(), m.config(), m.attention()));
            }
            Objective objective = method.build(tf, models);
            List<BuiltGroup> groups = new ArrayList<>();
            List<Parameter> saved = new ArrayList<>();
            List<String> keys = new ArrayList<>();
            for (ModelSpec m : specs) {
                if (m.trainable()) {
                    for (Parameter p : models.get(m.name()).parameters()) {
                        saved.add(p);
                        keys.add(p.name());
                    }
                }
            }
            List<Objective.Group> declared = objective.groups();
            for (int i = 0; i < declared.size(); i++) {
                Objective.Group group = declared.get(i);
                BuiltGroup b = buildGroup(tf, g, group, i == 0, specs, models, optimizer, cfg);
                groups.add(b);
                for (Parameter p : b.step.state()) {
                    saved.add(p);
                    keys.add(group.name() + "/" + p.name());
                }
            }
            VariableIO checkpointed = new VariableIO(tf, saved, keys);
            try (Session s = runtime.openSession(g)) {
                StageRun run = new StageRun(ctx, g, s, models, cfg.steps);
                initialize(run, specs);
                long start = restore(run, checkpointed, method);
                return loop(run, cfg, method, objective, groups, checkpointed, schedule, start);
            }
        }
    }

    /**
     * The result of a stage that a previous run completed: its final checkpoint is marked so and every model it
     * writes is there. Running the pipeline again then neither retrains nor re-evaluates it.
     */
    private Optional<TrainingResult> completed(TrainingContext ctx, LoopSettings cfg, TrainingMethod method,
            List<ModelSpec> specs) throws Exception {
        Optional<Checkpoint> last = checkpoints.latest(ctx.workDir());
        if (last.isEmpty() || !"true".equals(last.get().state().get(COMPLETED)) || last.get().step() != cfg.steps
                || !String.valueOf(ctx.seed()).equals(last.get().state().get("seed"))
                || !method.name().equals(last.get().state().get("trainer"))) {
            return Optional.empty();
        }
        String was = last.get().state().get(SETTINGS);
        String now = settingsFingerprint(ctx.settings());
        if (was != null && !was.equals(now)) { // a checkpoint of before the key existed is taken as it is
            throw new IllegalStateException("the stage's settings changed since it completed at step " + cfg.steps
                    + " (" + last.get().location() + "), so its model is not what they describe; delete "
                    + ctx.workDir() + " to train it again with the new settings, or put the old ones back"
                    + " (log_every, eval and checkpoint may change freely)");
        }
        Path output = null;
        for (ModelSpec m : specs) {
            if (m.output() != null) {
                Path out = ctx.workDir().resolve(m.output());
                if (!Files.isRegularFile(out.resolve("model.safetensors")) || !Files.isRegularFile(
                        out.resolve("config.json"))) {
                    return Optional.empty(); // written again from the final checkpoint
                }
                output = output == null ? out : output;
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        last.get().state().forEach((k, v) -> {
            if (k.startsWith(METRIC)) {
                metrics.put(k.substring(METRIC.length()), Double.parseDouble(v));
            }
        });
        ctx.publish(ctx.event(TrainingEvent.Kind.MESSAGE).step(cfg.steps).message("already completed at step "
                + cfg.steps + " (" + last.get().location() + ")" + (output == null ? "" : "; its model is in "
                        + output) + "; nothing to do").build());
        return Optional.of(new TrainingResult(TrainingResult.Status.COMPLETED, cfg.steps, metrics, List.of(),
                output));
    }

    /** The prefix of a method's own tensors in a checkpoint ({@link TrainingMethod#stateTensors}). */
    static final String METHOD_TENSOR = "method/";
    /** Checkpoint state: the stage ran to its end (its final evaluation is in the {@code metric.*} entries). */
    static final String COMPLETED = "completed";
    /** Checkpoint state: {@link #settingsFingerprint} of the stage's settings when it was saved. */
    static final String SETTINGS = "settings";
    /**
     * Checkpoint state: {@link #settingsFingerprint} without {@code steps}; a run goes on from the checkpoint only
     * when it matches (raising {@code steps} extends a run; any other trained key changed would mix two recipes).
     */
    static final String RESUME_SETTINGS = "resume_settings";
    /** Stage keys that change what is reported, never what is trained. */
    private static final Set<String> UNTRAINED_KEYS = Set.of("log_every", "eval", "checkpoint");

    /**
     * A SHA-256 of the stage's settings in a canonical form (keys sorted at every level), leaving out
     * {@code log_every}, {@code eval} and {@code checkpoint}: a completed stage whose settings differ from the ones
     * it was trained with is refused instead of being taken for done.
     */
    static String settingsFingerprint(Settings settings, String... alsoLeftOut) {
        Map<String, Object> all = new TreeMap<>(settings.asMap());
        all.keySet().removeAll(UNTRAINED_KEYS);
        all.keySet().removeAll(List.of(alsoLeftOut));
        StringBuilder b = new StringBuilder();
        canonical(all, b);
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(
                    b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void canonical(Object o, StringBuilder b) {
        if (o instanceof Map<?, ?> m) {
            b.append('{');
            new TreeMap<>(m.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                    e -> String.valueOf(e.getKey()), Map.Entry::getValue))).forEach((k, v) -> {
                        b.append(k).append('=');
                        canonical(v, b);
                        b.append(';');
                    });
            b.append('}');
        } else if (o instanceof List<?> l) {
            b.append('[');
            l.forEach(x -> {
                canonical(x, b);
                b.append(',');
            });
            b.append(']');
        } else {
            b.append(o == null ? "null" : o.getClass().getSimpleName() + ":" + o);
        }
    }
    static final String METRIC = "metric.";

    private BuiltGroup buildGroup(Ops tf, Graph g, Objective.Group group, boolean first, List<ModelSpec> specs,
            StageRun.Models models, Optimizer optimizer, LoopSettings cfg) {
        Placeholder<TFloat32> learningRate = tf.withName(first ? "learning_rate" : "learning_rate_" + group.name())
                .placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
        Operand<TFloat32> loss = group.loss();
        // only parameters the loss depends on are trained (the scalar head of a model that is trained as a language
        // model, say): TensorFlow refuses a gradient for an unreachable one
        Set<GraphOperation> used = g.subgraphTo(Set.of(loss));
        List<Parameter> params = new ArrayList<>();
        for (ModelSpec m : specs) {
            if (!m.trainable() || !(group.models().isEmpty() || group.models().contains(m.name()))) {
                continue;
            }
            for (Parameter p : models.get(m.name()).parameters()) {
                if (used.contains((GraphOperation) p.value().op())) {
                    params.add(p);
                }
            }
        }
        for (String name : group.models()) {
            if (!models.spec(name).trainable()) {
                throw new IllegalArgumentException("optimizer group \"" + group.name() + "\" trains model \"" + name
                        + "\", which is frozen");
            }
        }
        if (params.isEmpty()) {
            throw new IllegalStateException("optimizer group \"" + group.name() + "\": its loss reaches no trainable"
                    + " parameter");
        }
        List<Operand<?>> xs = new ArrayList<>();
        params.forEach(p -> xs.add(p.value()));
        List<Operand<TFloat32>> grads = new ArrayList<>();
        int i = 0;
        for (Operand<?> gr : tf.gradients(loss, xs)) {
            @SuppressWarnings("unchecked")
            Operand<TFloat32> gf = (Operand<TFloat32>) gr;
            if (gf == null) {
                throw new IllegalStateException("no gradient reaches parameter " + params.get(i).name());
            }
            grads.add(gf);
            i++;
        }
        // what is fetched with the update must see the parameters before it
        Ops scope = first ? tf : tf.withSubScope(group.name());
        OptimizerStep step = optimizer.build(scope.withControlDependencies(List.of(loss)), params, grads,
                learningRate, cfg.optimizer);
        return new BuiltGroup(group.name(), learningRate, step);
    }

    private void initialize(StageRun run, List<ModelSpec> specs) throws Exception {
        long seed = run.context().seed();
        for (ModelSpec m : specs) {
            Transformer t = run.models().get(m.name());
            t.initialize(run.session(), seed);
            // the method's choice, else the folder the stage names for this model (init: { reference: stage-1 })
            Path from = m.initFrom() != null ? m.initFrom() : run.context().init(m.name()).orElse(null);
            if (from != null) {
                Map<String, TensorData> values = readFolder(run, from, m.prefix());
                // a head the folder's model did not have (a reward model's classification head) keeps its seeded
                // start; everything else must be there, with its shape
                List<String> fresh = new ArrayList<>();
                Map<String, TensorData> seeded = null;
                for (Parameter p : t.parameters()) {
                    if (!values.containsKey(p.name()) && isHead(p.name(), m.prefix())) {
                        seeded = seeded == null ? t.read(run.session()) : seeded;
                        values.put(p.name(), seeded.get(p.name()));
                        fresh.add(p.name());
                    }
                }
                // and a head of the folder's model this one has not (a value model started from a reward model
                // that scores with likelihood weights or a classification head) is left out
                Set<String> own = new HashSet<>();
                t.parameters().forEach(p -> own.add(p.name()));
                List<String> unused = new ArrayList<>();
                values.keySet().removeIf(k -> {
                    boolean drop = !own.contains(k) && isHead(k, m.prefix());
                    if (drop) {
                        unused.add(k);
                    }
                    return drop;
                });
                t.assign(run.session(), values, false);
                run.message(0, m.name() + ": weights from " + from + (fresh.isEmpty() ? ""
                        : "; " + String.join(", ", fresh) + " from the seed (not in that folder)")
                        + (unused.isEmpty() ? "" : "; not used: " + String.join(", ", unused)));
            }
        }
    }

    /** Whether {@code name} is a head's parameter (the heads over the last hidden states, not the body). */
    private static boolean isHead(String name, String prefix) {
        String local = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
        return local.startsWith("cls_head.") || local.startsWith("scalar_head.") || local.startsWith("score_head.");
    }

    /** The tensors of a model folder, renamed from {@code model.x} to {@code prefix + x}. */
    private Map<String, TensorData> readFolder(StageRun run, Path folder, String prefix) throws Exception {
        Path file = folder.resolve("model.safetensors");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(folder + ": not a model folder (it has no model.safetensors); name a"
                    + " folder a stage wrote (<stage>/model) or an earlier stage (init: stage-0)");
        }
        WeightStore.Weights w = weights.load(file);
        for (String warning : w.warnings()) {
            run.message(0, "warning: " + warning);
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : w.tensors().entrySet()) {
            String k = e.getKey();
            out.put(k.startsWith(FOLDER_PREFIX) ? prefix + k.substring(FOLDER_PREFIX.length()) : k, e.getValue());
        }
        return out;
    }

    private long restore(StageRun run, VariableIO checkpointed, TrainingMethod method) throws Exception {
        TrainingContext ctx = run.context();
        Optional<Checkpoint> last = checkpoints.latest(ctx.workDir());
        if (last.isEmpty()) {
            return 0;
        }
        Checkpoint c = last.get();
        String seed = c.state().get("seed");
        if (seed != null && Long.parseLong(seed) != ctx.seed()) {
            throw new IllegalStateException(c.location() + ": was written with seed " + seed + ", this run has seed "
                    + ctx.seed() + "; resume with the same seed or use a new workdir");
        }
        if (c.step() > run.totalSteps()) {
            throw new IllegalStateException(c.location() + ": is at step " + c.step() + ", beyond this stage's "
                    + run.totalSteps() + " steps (it was written by a longer run); raise steps to go on from it, or"
                    + " start in a new workdir");
        }
        String trainer = c.state().get("trainer");
        if (trainer != null && !trainer.equals(method.name())) {
            throw new IllegalStateException(c.location() + ": was written by trainer " + trainer + ", this stage's"
                    + " trainer is " + method.name() + "; use a new workdir");
        }
        String was = c.state().get(RESUME_SETTINGS);
        if (was != null && !was.equals(settingsFingerprint(ctx.settings(), "steps"))) {
            // a checkpoint of before the key existed is taken as it is
            throw new IllegalStateException(c.location() + ": was written with other settings than this stage's, so"
                    + " going on from it would train one model with two recipes; delete " + ctx.workDir() + " to"
                    + " train it again with the new settings, or put the old ones back (steps may grow to go on from"
                    + " it; log_every, eval and checkpoint may change freely)");
        }
        Map<String, TensorData> variables = new LinkedHashMap<>();
        Map<String, TensorData> own = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith(METHOD_TENSOR)) {
                own.put(k.substring(METHOD_TENSOR.length()), v);
            } else {
                variables.put(k, v);
            }
        });
        checkpointed.assign(run.session(), variables, String.valueOf(c.location()));
        Map<String, String> state = new HashMap<>();
        c.state().forEach((k, v) -> {
            if (k.startsWith("method.")) {
                state.put(k.substring("method.".length()), v);
            }
        });
        method.restore(state);
        method.restoreTensors(own);
        run.message(c.step(), "resuming from " + c.location() + " at step " + c.step());
        return c.step();
    }

    private TrainingResult loop(StageRun run, LoopSettings cfg, TrainingMethod method, Objective objective,
            List<BuiltGroup> groups, VariableIO checkpointed, LearningRateSchedule schedule, long start)
            throws Exception {
        TrainingContext ctx = run.context();
        ctx.publish(ctx.event(TrainingEvent.Kind.STAGE_STARTED).step(start).totalSteps(cfg.steps).build());
        Map<String, Double> last = new LinkedHashMap<>();
        List<Map.Entry<String, Operand<TFloat32>>> metrics = new ArrayList<>(objective.metrics().entrySet());
        if (cfg.evalAtStart && start == 0) {
            evaluate(run, method, 0, false); // the baseline the stage's gains are measured against
        }
        long windowStart = System.nanoTime();
        long windowSteps = 0;
        double lossSum = 0;
        for (long step = start; step < cfg.steps; step++) {
            String deactivated = guard.deactivated();
            if (ctx.stopRequested() || deactivated != null) {
                Path at = save(run, method, checkpointed, step, cfg.checkpointKeep);
                String why = deactivated != null ? deactivated : ctx.stopReason();
                run.message(step, "stopped at step " + step + " (" + why + "); checkpoint " + at
                        + "; run the same pipeline again to resume");
                return new TrainingResult(TrainingResult.Status.STOPPED, step, last, List.of(), at);
            }
            method.beforeStep(run, step);
            if (run.stopRequest() != null) {
                Path at = save(run, method, checkpointed, step, cfg.checkpointKeep);
                run.message(step, "stopped at step " + step + " (" + run.stopRequest() + "); checkpoint " + at
                        + "; run the same pipeline again to resume");
                return new TrainingResult(TrainingResult.Status.STOPPED, step, last, List.of(), at);
            }
            float lr = (float) schedule.rate(step, cfg.steps, cfg.optimizer);
            float[] out = new float[1 + groups.size() + metrics.size()];
            List<TFloat32> rates = new ArrayList<>();
            try (Feeds feeds = method.batch(step)) {
                Session.Runner r = feeds.feed(run.session().runner());
                for (BuiltGroup b : groups) {
                    TFloat32 rate = TFloat32.scalarOf(lr);
                    rates.add(rate);
                    r.feed(b.learningRate, rate).addTarget(b.step.update());
                }
                r.fetch(objective.loss());
                groups.forEach(b -> r.fetch(b.step.gradNorm()));
                metrics.forEach(m -> r.fetch(m.getValue()));
                try (Result res = r.run()) {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = ((TFloat32) res.get(i)).getFloat();
                    }
                }
            } finally {
                rates.forEach(TFloat32::close);
            }
            if (!Float.isFinite(out[0])) {
                throw new IllegalStateException("loss is " + out[0] + " at step " + (step + 1)
                        + ": lower optimizer.lr or set optimizer.clip_norm");
            }
            windowSteps++;
            lossSum += out[0];
            long done = step + 1;
            Map<String, Double> fetched = new LinkedHashMap<>();
            fetched.put(MetricNames.LOSS, (double) out[0]);
            for (int i = 0; i < groups.size(); i++) {
                fetched.put(i == 0 ? MetricNames.GRAD_NORM : MetricNames.GRAD_NORM + "/" + groups.get(i).name,
                        (double) out[1 + i]);
            }
            for (int i = 0; i < metrics.size(); i++) {
                fetched.put(metrics.get(i).getKey(), (double) out[1 + groups.size() + i]);
            }
            method.afterStep(step, fetched);
            if (done % cfg.logEvery == 0 || done == cfg.steps) {
                double secs = (System.nanoTime() - windowStart) / 1e9;
                last.put(MetricNames.LOSS, lossSum / windowSteps);
                TrainingEvent.Builder e = ctx.event(TrainingEvent.Kind.STEP).step(done).totalSteps(cfg.steps)
                        .metric(MetricNames.LOSS, out[0]);
                method.stepMetrics(fetched).forEach(e::metric);
                e.labels(method.labels());
                e.metric(MetricNames.LEARNING_RATE, lr);
                fetched.forEach((k, v) -> {
                    if (!k.equals(MetricNames.LOSS)) {
                        e.metric(k, v);
                    }
                });
                double epoch = method.epoch(done);
                if (!Double.isNaN(epoch)) {
                    e.metric(MetricNames.EPOCH, epoch);
                }
                e.metric(MetricNames.TOKENS_PER_SECOND,
                        windowSteps * method.tokensPerStep() / Math.max(secs, 1e-9));
                ctx.publish(e.build());
                windowStart = System.nanoTime();
                windowSteps = 0;
                lossSum = 0;
            }
            if (cfg.evalEvery > 0 && done % cfg.evalEvery == 0 && done < cfg.steps) {
                last.putAll(evaluate(run, method, done, false));
            }
            if (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery == 0 && done < cfg.steps) {
                save(run, method, checkpointed, done, cfg.checkpointKeep);
            }
        }
        last.putAll(evaluate(run, method, cfg.steps, true));
        save(run, method, checkpointed, cfg.steps, cfg.checkpointKeep, last);
        Path output = writeModels(run); // a rerun that finds them and the completed checkpoint does nothing
        List<String> samples = method.finish(run);
        ctx.publish(ctx.event(TrainingEvent.Kind.STAGE_FINISHED).step(cfg.steps).totalSteps(cfg.steps).metrics(last)
                .message(output == null ? "" : output.toString()).build());
        return new TrainingResult(TrainingResult.Status.COMPLETED, cfg.steps, last, samples, output);
    }

    private Map<String, Double> evaluate(StageRun run, TrainingMethod method, long step, boolean last)
            throws Exception {
        Map<String, Double> m = method.evaluate(run, step, last);
        if (!m.isEmpty()) {
            TrainingContext ctx = run.context();
            ctx.publish(ctx.event(TrainingEvent.Kind.EVALUATION).step(step).totalSteps(run.totalSteps()).metrics(m)
                    .labels(method.labels()).build());
        }
        return m;
    }

    private Path save(StageRun run, TrainingMethod method, VariableIO checkpointed, long step, int keep)
            throws Exception {
        return save(run, method, checkpointed, step, keep, null);
    }

    /** @param finalMetrics the final evaluation when the stage is complete (marks the checkpoint so), else null */
    private Path save(StageRun run, TrainingMethod method, VariableIO checkpointed, long step, int keep,
            Map<String, Double> finalMetrics) throws Exception {
        TrainingContext ctx = run.context();
        Map<String, String> state = new HashMap<>();
        state.put("step", Long.toString(step));
        state.put("seed", Long.toString(ctx.seed()));
        state.put("data_position", Long.toString(step)); // a method's batch of step k is a function of (seed, k)
        state.put("trainer", method.name());
        state.put(SETTINGS, settingsFingerprint(ctx.settings()));
        state.put(RESUME_SETTINGS, settingsFingerprint(ctx.settings(), "steps"));
        method.state().forEach((k, v) -> state.put("method." + k, v));
        if (finalMetrics != null) {
            state.put(COMPLETED, "true");
            finalMetrics.forEach((k, v) -> state.put(METRIC + k, Double.toString(v)));
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>(checkpointed.read(run.session()));
        method.stateTensors().forEach((k, v) -> tensors.put(METHOD_TENSOR + k, v));
        Path at = checkpoints.save(ctx.workDir(), new Checkpoint(step, tensors, state, null), mainConfig(run), keep);
        ctx.publish(ctx.event(TrainingEvent.Kind.CHECKPOINT).step(step).message(at.toString()).build());
        return at;
    }

    /** The configuration of the first trained model (or the first model): what a checkpoint's config.json holds. */
    private static ModelConfig mainConfig(StageRun run) {
        ModelConfig first = null;
        for (String name : run.models().all().keySet()) {
            ModelSpec s = run.models().spec(name);
            if (s.trainable()) {
                return s.config();
            }
            if (first == null) {
                first = s.config();
            }
        }
        return first;
    }

    /** Writes every model with an output folder; returns the first such folder. */
    private Path writeModels(StageRun run) throws Exception {
        Path first = null;
        for (String name : run.models().all().keySet()) {
            ModelSpec spec = run.models().spec(name);
            if (spec.output() == null) {
                continue;
            }
            Path out = run.workDir().resolve(spec.output());
            writeModel(run, spec, out);
            if (first == null) {
                first = out;
            }
        }
        return first;
    }

    /** A model folder: {@code model.safetensors} (names {@code model.<local>}), {@code config.json}, tokenizer. */
    private void writeModel(StageRun run, ModelSpec spec, Path out) throws Exception {
        Files.createDirectories(out);
        Map<String, TensorData> renamed = new LinkedHashMap<>();
        run.models().get(spec.name()).read(run.session())
                .forEach((k, v) -> renamed.put(k.startsWith(spec.prefix())
                        ? FOLDER_PREFIX + k.substring(spec.prefix().length()) : k, v));
        weights.save(out.resolve("model.safetensors"), renamed, Map.of("format", "align4j"));
        weights.saveConfig(out.resolve("config.json"), spec.config());
        run.context().tokenizer().save(out.resolve("tokenizer.json"));
    }
}
