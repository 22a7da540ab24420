package org.align4j.api.metrics;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the events of every run (the whiteboard pattern): register a service of this type and it is called.
 * Calls come from the training thread: return quickly, and never throw (an exception is logged and ignored). A
 * listener may filter on {@link TrainingEvent#run()}.
 */
@ConsumerType
public interface TrainingListener {
    void onEvent(TrainingEvent event);
}
