package org.align4j.pipeline.internal;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.align4j.api.metrics.TrainingEvent;
import org.align4j.api.metrics.TrainingListener;

/**
 * Delivers events to every {@link TrainingListener} (the whiteboard). A listener that throws is logged and ignored;
 * after a few failures of the same listener its further failures are not logged again.
 */
public final class EventBus {
    private static final int LOGGED_FAILURES = 3;

    private final List<TrainingListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<TrainingListener, Integer> failures = new IdentityHashMap<>();
    private final Consumer<String> log;

    public EventBus(Consumer<String> log) {
        this.log = log;
    }

    public void add(TrainingListener l) {
        listeners.add(l);
    }

    public void remove(TrainingListener l) {
        listeners.remove(l);
        synchronized (failures) {
            failures.remove(l);
        }
    }

    public void publish(TrainingEvent event) {
        for (TrainingListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                int n;
                synchronized (failures) {
                    n = failures.merge(l, 1, Integer::sum);
                }
                if (n <= LOGGED_FAILURES) {
                    log.accept("training listener " + l.getClass().getName() + " failed on " + event.kind()
                            + " of run " + event.run() + ": " + Texts.message(e)
                            + (n == LOGGED_FAILURES ? " (further failures of this listener are not shown)" : ""));
                }
            }
        }
    }
}
