package org.align4j.reward;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelException;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The {@link RewardModels} service: a {@link ServiceTracker} over {@link RewardModel} services that keeps their
 * references only (no service object is held between calls), and {@link Leasing} for the rules. Each attempt runs
 * on a thread of this component, so the caller can stop waiting at the timeout; the threads stop in
 * {@link #deactivate()}.
 *
 * <p>Configuration PID {@value #PID}: {@code timeout} (default {@code 30s}; {@code 500ms}, {@code 2m} or plain
 * seconds also read) and {@code retries} (default 2: three attempts in all).
 */
@Component(service = RewardModels.class, configurationPid = RewardModelsImpl.PID)
@Designate(ocd = RewardModelsImpl.Config.class)
public final class RewardModelsImpl implements RewardModels {
    public static final String PID = "org.align4j.reward.models";

    @ObjectClassDefinition(name = "align4j reward models",
            description = "How long a reward-model call may take and how often a failed call is retried.")
    public @interface Config {
        @AttributeDefinition(description = "Timeout of one attempt, e.g. 30s, 500ms, 2m")
        String timeout() default "30s";

        @AttributeDefinition(description = "Retries after a failed attempt (threw, timed out, NaN or infinite score)")
        int retries() default 2;
    }

    private final ServiceTracker<RewardModel, ServiceReference<RewardModel>> tracker;
    private final ExecutorService executor;
    private final Leasing leasing;

    @Activate
    public RewardModelsImpl(BundleContext context, Config config) {
        Duration timeout = Durations.parse(config.timeout(), PID + ": timeout");
        if (config.retries() < 0) {
            throw new IllegalArgumentException(PID + ": retries: expected 0 or more, got " + config.retries());
        }
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "align4j-reward-call-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.tracker = new ServiceTracker<>(context, RewardModel.class, null) {
            @Override
            public ServiceReference<RewardModel> addingService(ServiceReference<RewardModel> reference) {
                return reference; // the reference only: the object is got per call
            }

            @Override
            public void removedService(ServiceReference<RewardModel> reference, ServiceReference<RewardModel> s) {
                // nothing was got
            }
        };
        this.tracker.open();
        this.leasing = new Leasing(() -> candidates(context), executor, timeout, config.retries(),
                msg -> System.err.println("align4j: " + msg));
    }

    @Deactivate
    void deactivate() {
        tracker.close();
        executor.shutdownNow();
    }

    private List<Candidate> candidates(BundleContext context) {
        ServiceReference<RewardModel>[] refs = tracker.getServiceReferences();
        List<Candidate> out = new ArrayList<>();
        if (refs != null) {
            for (ServiceReference<RewardModel> ref : refs) {
                out.add(new ReferenceCandidate(context, ref));
            }
        }
        return out;
    }

    @Override
    public Lease lease(String name, Optional<String> version) throws RewardModelException {
        return leasing.lease(name, version);
    }

    @Override
    public Lease lease(String name, Optional<String> version, Duration timeout, int retries)
            throws RewardModelException {
        return leasing.lease(name, version, timeout, retries);
    }

    @Override
    public List<RewardModelInfo> models(String ldapFilter) {
        return leasing.models(ldapFilter);
    }

    /** A registered service, got from its reference for one call. */
    static final class ReferenceCandidate implements Candidate {
        private final BundleContext context;
        private final ServiceReference<RewardModel> ref;
        private final RewardModelInfo info;

        ReferenceCandidate(BundleContext context, ServiceReference<RewardModel> ref) {
            this.context = context;
            this.ref = ref;
            Bundle b = ref.getBundle();
            this.info = new RewardModelInfo(string(ref.getProperty(RewardModel.NAME)),
                    string(ref.getProperty(RewardModel.VERSION)), string(ref.getProperty(RewardModel.ASPECT)),
                    b == null ? "unregistered" : b.getSymbolicName(), (Long) ref.getProperty(Constants.SERVICE_ID));
        }

        private static String string(Object o) {
            return o == null ? "" : o.toString();
        }

        @Override
        public RewardModelInfo info() {
            return info;
        }

        @Override
        public int ranking() {
            Object r = ref.getProperty(Constants.SERVICE_RANKING);
            return r instanceof Integer ? (Integer) r : 0;
        }

        @Override
        public boolean matches(Filter filter) {
            return filter.match(ref);
        }

        @Override
        public RewardModel get() {
            try {
                return context.getService(ref);
            } catch (IllegalStateException e) {
                return null; // this bundle's context is no longer valid
            }
        }

        @Override
        public void unget() {
            try {
                context.ungetService(ref);
            } catch (IllegalStateException e) {
                // the context went away: the framework released everything
            }
        }
    }
}
