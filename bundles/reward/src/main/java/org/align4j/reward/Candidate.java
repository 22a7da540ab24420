package org.align4j.reward;

import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelInfo;
import org.osgi.framework.Filter;

/**
 * A reward-model service as the registry shows it now: its description, and a way to get and unget the service
 * object for one call (in OSGi, from its {@code ServiceReference}; in tests, plain objects).
 */
interface Candidate {
    RewardModelInfo info();

    /** {@code service.ranking} (0 when absent). */
    int ranking();

    /** Whether the service's properties match {@code filter}. */
    boolean matches(Filter filter);

    /** The service object for one call, or {@code null} when it has gone meanwhile; pair with {@link #unget()}. */
    RewardModel get();

    /** Releases what {@link #get()} returned. */
    void unget();

    /** The reward-model services registered now. */
    interface Registry {
        java.util.List<Candidate> candidates();
    }
}
