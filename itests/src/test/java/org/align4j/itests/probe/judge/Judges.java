package org.align4j.itests.probe.judge;

import java.util.Hashtable;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** The judges bundle's activator: registers two judges, {@code strict} and {@code lenient}. */
public class Judges implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        for (String name : new String[] {"strict", "lenient"}) {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("align4j.name", name);
            context.registerService(Judge.class, text -> name + " judge on " + text, props);
        }
    }

    @Override
    public void stop(BundleContext context) {
        // the framework unregisters the services
    }
}
