package org.align4j.api.reward;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Chooses and leases {@link RewardModel} services (the framework's service, in the align4j-reward bundle). A
 * {@link Lease} is a handle on a name (and optionally a pinned version); it holds no service between calls. Each
 * call gets the best match at that moment from its {@code ServiceReference}, calls it, and ungets it in
 * {@code finally}: a call in flight finishes on the service it started with even when that service is unregistered
 * meanwhile, and the next call uses whatever is best then. That is the swap, at a batch boundary the caller chooses.
 *
 * <p><b>Choosing.</b> Among the services whose {@link RewardModel#NAME} is the name: those whose
 * {@link RewardModel#VERSION} equals the pinned version, if one is pinned; else the newest version by
 * {@link #compareVersions(String, String)}; on equal versions the higher {@code service.ranking}, then the older
 * service (lower {@code service.id}).
 *
 * <p><b>Calls.</b> Each attempt has a timeout; a failed attempt (threw, timed out, returned the wrong number of
 * scores, a NaN or an infinite score) is retried up to the lease's number of retries, each retry choosing afresh;
 * then the call fails with a {@link RewardModelException} naming the model and what happened. An
 * {@link UnsupportedOperationException} (e.g. {@link RewardModel#scoreTokens} of a text model) is not retried.
 * Defaults are the service's configuration (PID {@code org.align4j.reward.models}: {@code timeout}, e.g.
 * {@code 30s}, and {@code retries}, e.g. {@code 2}).
 */
@ProviderType
public interface RewardModels {

    /**
     * A lease on the reward models of one name, taken per call. Thread-safe.
     */
    @ProviderType
    interface Lease {
        String name();

        /** The pinned version, if any. */
        Optional<String> version();

        /** The service the next call would use now; empty when none matches. */
        Optional<RewardModelInfo> current();

        /** Scores {@code batch} on the best matching service (see {@link RewardModels}). */
        Scored score(List<PromptCompletion> batch) throws RewardModelException, InterruptedException;

        /** Scores token ids on the best matching service ({@link RewardModel#scoreTokens}). */
        Scored scoreTokens(List<int[]> prompts, List<int[]> completions)
                throws RewardModelException, InterruptedException;
    }

    /**
     * A lease with the configured timeout and retries.
     *
     * @param version a version to pin, or empty for the newest
     * @throws RewardModelException when no service matches now; the message lists the registered reward models
     *             ({@code name version [bundle]})
     */
    Lease lease(String name, Optional<String> version) throws RewardModelException;

    /**
     * A lease with its own timeout per attempt and number of retries after the first attempt.
     *
     * @throws IllegalArgumentException when {@code timeout} is not positive or {@code retries} is negative
     * @throws RewardModelException as {@link #lease(String, Optional)}
     */
    Lease lease(String name, Optional<String> version, Duration timeout, int retries) throws RewardModelException;

    /**
     * {@link #lease(String, Optional)}, waiting up to {@code wait} for a matching service to register (a reward
     * bundle dropped into {@code deploy/}, or deployed by an earlier stage, registers a moment later).
     *
     * @throws RewardModelException as {@link #lease(String, Optional)}, when none matches after {@code wait}
     * @since 2.2
     */
    default Lease awaitLease(String name, Optional<String> version, Duration wait)
            throws RewardModelException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            try {
                return lease(name, version);
            } catch (RewardModelException none) {
                if (System.nanoTime() - deadline >= 0) {
                    throw none;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * The registered reward models whose service properties match {@code ldapFilter} (every version; {@code null}
     * or empty for all), sorted by name, then newest version first.
     *
     * @throws IllegalArgumentException when the filter is not valid LDAP syntax (the message says where)
     */
    List<RewardModelInfo> models(String ldapFilter);

    /**
     * Orders versions: both are split at {@code '.'}; parts are compared in turn, numerically when both are
     * non-negative decimal integers (so {@code 1.10} is newer than {@code 1.9}), else as strings (so
     * {@code 2026-11-29.10} is newer than {@code 2026-11-29.9}, and {@code 2026-11-30} than {@code 2026-11-29}); when all shared parts are equal the version with more
     * parts is newer ({@code 1.0.1 > 1.0}). The empty string (no version) is older than every other version.
     *
     * @return negative, zero or positive as {@code a} is older than, the same as or newer than {@code b}
     */
    static int compareVersions(String a, String b) {
        if (a.isEmpty() || b.isEmpty()) {
            return Boolean.compare(!a.isEmpty(), !b.isEmpty());
        }
        String[] x = a.split("\\.", -1);
        String[] y = b.split("\\.", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            if (isNumber(x[i]) && isNumber(y[i])) {
                String p = x[i].replaceFirst("^0+(?=.)", "");
                String q = y[i].replaceFirst("^0+(?=.)", "");
                c = p.length() != q.length() ? Integer.compare(p.length(), q.length()) : p.compareTo(q);
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
