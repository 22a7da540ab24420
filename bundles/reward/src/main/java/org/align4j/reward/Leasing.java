package org.align4j.reward;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.align4j.api.reward.PromptCompletion;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.reward.RewardScores;
import org.align4j.api.reward.Scored;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;

/**
 * The choosing and leasing behind {@link RewardModelsImpl}, on plain objects: a {@link Candidate.Registry} (the
 * service registry, or a test's list) and an executor that runs each attempt so the caller can stop waiting for it.
 * See {@link RewardModels} for the rules. Thread-safe.
 */
final class Leasing {
    /** The order of preference: newest version, then higher ranking, then older service. */
    static final Comparator<Candidate> BEST_FIRST = Comparator
            .<Candidate, String>comparing(c -> c.info().version(), RewardModels::compareVersions)
            .thenComparingInt(Candidate::ranking)
            .thenComparing(c -> -c.info().serviceId(), Comparator.naturalOrder())
            .reversed();

    private final Candidate.Registry registry;
    private final ExecutorService executor;
    private final Duration defaultTimeout;
    private final int defaultRetries;
    private final Consumer<String> log;

    Leasing(Candidate.Registry registry, ExecutorService executor, Duration defaultTimeout, int defaultRetries,
            Consumer<String> log) {
        this.registry = registry;
        this.executor = executor;
        this.defaultTimeout = check(defaultTimeout, defaultRetries);
        this.defaultRetries = defaultRetries;
        this.log = log;
    }

    private static Duration check(Duration timeout, int retries) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries: expected 0 or more, got " + retries);
        }
        return timeout;
    }

    RewardModels.Lease lease(String name, Optional<String> version) throws RewardModelException {
        return lease(name, version, defaultTimeout, defaultRetries);
    }

    RewardModels.Lease lease(String name, Optional<String> version, Duration timeout, int retries)
            throws RewardModelException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        check(timeout, retries);
        if (choose(name, version).isEmpty()) {
            throw noSuch(name, version);
        }
        return new LeaseImpl(name, version, timeout, retries);
    }

    /** The best service for {@code name} (and {@code version}, if pinned) now. */
    Optional<Candidate> choose(String name, Optional<String> version) {
        return registry.candidates().stream()
                .filter(c -> c.info().name().equals(name))
                .filter(c -> version.isEmpty() || c.info().version().equals(version.get()))
                .min(BEST_FIRST);
    }

    List<RewardModelInfo> models(String ldapFilter) {
        Filter filter = null;
        if (ldapFilter != null && !ldapFilter.isBlank()) {
            try {
                filter = FrameworkUtil.createFilter(ldapFilter);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException("reward-model filter \"" + ldapFilter + "\": " + e.getMessage()
                        + " (expected LDAP syntax, e.g. (align4j.aspect=correctness))", e);
            }
        }
        List<Candidate> matching = new ArrayList<>();
        for (Candidate c : registry.candidates()) {
            if (filter == null || c.matches(filter)) {
                matching.add(c);
            }
        }
        matching.sort(Comparator.<Candidate, String>comparing(c -> c.info().name()).thenComparing(BEST_FIRST));
        List<RewardModelInfo> out = new ArrayList<>();
        matching.forEach(c -> out.add(c.info()));
        return out;
    }

    private RewardModelException noSuch(String name, Optional<String> version) {
        List<RewardModelInfo> all = models(null);
        List<String> listed = new ArrayList<>();
        all.forEach(i -> listed.add(i.toString()));
        String what = version.isPresent() ? "no reward model named \"" + name + "\" with version \"" + version.get()
                + "\"" : "no reward model named \"" + name + "\"";
        return new RewardModelException(what + " (registered: " + (listed.isEmpty() ? "none" : String.join(", ",
                listed)) + "); install or configure it, or correct the name" + (version.isPresent()
                        ? " or the pinned version" : ""));
    }

    /** A call of one reward model: {@code score} or {@code scoreTokens}. */
    private interface Call {
        RewardScores on(RewardModel model) throws Exception;
    }

    /** The service went away between choosing it and getting it. */
    private static final class Gone extends Exception {
        private static final long serialVersionUID = 1L;
    }

    private final class LeaseImpl implements RewardModels.Lease {
        private final String name;
        private final Optional<String> version;
        private final Duration timeout;
        private final int retries;
        private volatile RewardModelInfo lastUsed;

        LeaseImpl(String name, Optional<String> version, Duration timeout, int retries) {
            this.name = name;
            this.version = version;
            this.timeout = timeout;
            this.retries = retries;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Optional<String> version() {
            return version;
        }

        @Override
        public Optional<RewardModelInfo> current() {
            return choose(name, version).map(Candidate::info);
        }

        @Override
        public Scored score(List<PromptCompletion> batch) throws RewardModelException, InterruptedException {
            List<PromptCompletion> copy = List.copyOf(batch);
            return call(copy.size(), m -> m.score(copy));
        }

        @Override
        public Scored scoreTokens(List<int[]> prompts, List<int[]> completions)
                throws RewardModelException, InterruptedException {
            if (prompts.size() != completions.size()) {
                throw new IllegalArgumentException(prompts.size() + " prompts but " + completions.size()
                        + " completions: give one completion per prompt");
            }
            List<int[]> p = List.copyOf(prompts);
            List<int[]> c = List.copyOf(completions);
            return call(p.size(), m -> m.scoreTokens(p, c));
        }

        private Scored call(int size, Call call) throws RewardModelException, InterruptedException {
            List<String> failures = new ArrayList<>();
            int attempts = retries + 1;
            for (int attempt = 1; attempt <= attempts; attempt++) {
                Optional<Candidate> chosen = choose(name, version);
                if (chosen.isEmpty()) {
                    RewardModelException e = noSuch(name, version);
                    throw failures.isEmpty() ? e : new RewardModelException(e.getMessage() + "; earlier: "
                            + String.join("; ", failures));
                }
                Candidate c = chosen.get();
                RewardModelInfo info = c.info();
                String failure;
                Throwable cause = null;
                Future<RewardScores> f;
                try {
                    f = executor.submit(() -> {
                        RewardModel model = c.get();
                        if (model == null) {
                            throw new Gone();
                        }
                        try {
                            return call.on(model);
                        } finally {
                            c.unget();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    throw new RewardModelException("reward model " + info + ": the reward-model service is stopping"
                            + " (the align4j-reward bundle stopped); no call was made", info, e);
                }
                try {
                    RewardScores r = f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
                    failure = problem(r, size);
                    if (failure == null) {
                        RewardModelInfo before = lastUsed;
                        if (before != null && !before.equals(info)) {
                            log.accept("reward model \"" + name + "\": now " + info + " (was " + before + ")");
                        }
                        lastUsed = info;
                        return new Scored(r, info, attempt);
                    }
                } catch (TimeoutException e) {
                    f.cancel(true); // interrupts the call; it still ungets its service when it ends
                    failure = "timed out after " + Durations.format(timeout);
                    cause = e;
                } catch (ExecutionException e) {
                    cause = e.getCause();
                    if (cause instanceof Gone) {
                        failure = "was unregistered before the call started";
                    } else if (cause instanceof UnsupportedOperationException) {
                        throw new RewardModelException("reward model " + info + ": " + cause.getMessage(), info,
                                cause);
                    } else {
                        failure = "threw " + cause.getClass().getName() + ": " + cause.getMessage();
                    }
                } catch (InterruptedException e) {
                    f.cancel(true);
                    throw e;
                }
                String text = "reward model " + info + ": " + failure;
                if (attempt == attempts) {
                    throw new RewardModelException(text + " (" + attempts + " attempt" + (attempts == 1 ? "" : "s")
                            + (failures.isEmpty() ? "" : "; earlier: " + String.join("; ", failures)) + ")", info,
                            cause);
                }
                failures.add("attempt " + attempt + ": " + text);
                log.accept(text + "; retrying (attempt " + (attempt + 1) + " of " + attempts + ")");
            }
            throw new IllegalStateException("unreachable");
        }
    }

    /** What is wrong with {@code r} as the scores of {@code size} elements; null when nothing. */
    static String problem(RewardScores r, int size) {
        if (r == null) {
            return "returned null instead of scores";
        }
        float[] s = r.scores();
        if (s.length != size) {
            return "returned " + s.length + " scores for a batch of " + size;
        }
        for (int i = 0; i < s.length; i++) {
            if (!Float.isFinite(s[i])) {
                return "returned " + s[i] + " at index " + i;
            }
        }
        Optional<List<float[]>> steps = r.steps();
        if (steps.isPresent()) {
            for (int i = 0; i < steps.get().size(); i++) {
                float[] st = steps.get().get(i);
                for (int j = 0; j < st.length; j++) {
                    if (!Float.isFinite(st[j])) {
                        return "returned a step score of " + st[j] + " at index " + i + ", step " + j;
                    }
                }
            }
        }
        return null;
    }
}
