package org.align4j.training;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * The stop protocol between a trainer component and Declarative Services. The thread running a stage holds the guard;
 * when the component is deactivated (its configuration removed, a service it needs gone, the framework stopping),
 * {@link #deactivate} marks it and waits up to a minute for the stage to checkpoint and return, so the checkpoint is
 * whole before the bundles it needs stop too. The loop checks {@link #deactivated()} before every step.
 *
 * <pre>
 * private final TrainerGuard guard = new TrainerGuard();
 * public TrainingResult train(TrainingContext ctx) throws Exception { return guard.run(() -&gt; ...); }
 * &#64;Deactivate void deactivate(BundleContext c) throws InterruptedException { guard.deactivate(c); }
 * </pre>
 */
public final class TrainerGuard {
    private final ReentrantLock running = new ReentrantLock();
    private volatile String deactivated;

    /** Runs {@code stage} holding the guard. */
    public <T> T run(Callable<T> stage) throws Exception {
        running.lock();
        try {
            return stage.call();
        } finally {
            running.unlock();
        }
    }

    /** Marks the component deactivated (saying why) and waits up to a minute for a running stage to return. */
    public void deactivate(BundleContext context) throws InterruptedException {
        Bundle framework = context.getBundle(0);
        deactivated(framework.getState() == Bundle.STOPPING ? "align4j is shutting down"
                : "the trainer component was deactivated (its configuration was removed or a service it needs left)");
        if (running.tryLock(60, TimeUnit.SECONDS)) {
            running.unlock();
        }
    }

    /** Marks the component deactivated without waiting (for tests and components outside OSGi). */
    public void deactivated(String why) {
        deactivated = why;
    }

    /** Why the component was deactivated; {@code null} while it is active. */
    public String deactivated() {
        return deactivated;
    }
}
