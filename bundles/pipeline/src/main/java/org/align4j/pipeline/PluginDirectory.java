package org.align4j.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.runs.PluginDescription;
import org.align4j.api.train.StageCheck;
import org.align4j.api.train.Trainer;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The plugins a pipeline can name, read from the live registry on each call ({@code RunService.plugins()}): every
 * service with an {@code align4j.name} (kernels, losses, optimizers, schedules, readers, generators, tokenizers,
 * tasks, reward models) with its properties, and every trainer component, configured or not.
 */
final class PluginDirectory {
    private PluginDirectory() {
    }

    /** The kind shown for a service, from the contract it is registered under. */
    static String kind(String[] objectClass, Object family) {
        for (String c : objectClass) {
            String simple = c.substring(c.lastIndexOf('.') + 1);
            switch (simple) {
                case "AttentionKernel":
                    return "attention kernel";
                case "Optimizer":
                    return "optimizer";
                case "LearningRateSchedule":
                    return "schedule";
                case "RewardModel":
                    return "reward model";
                case "DatasetReader":
                    return "dataset reader";
                case "CorpusGenerator":
                    return "corpus generator";
                case "TokenizerFactory":
                    return "tokenizer";
                case "Task":
                    return "task";
                case "Trainer":
                    return "trainer";
                default:
                    if (simple.endsWith("Loss")) {
                        return family == null ? "loss" : "loss: " + String.valueOf(family).toLowerCase();
                    }
            }
        }
        String first = objectClass.length == 0 ? "service" : objectClass[0];
        return first.substring(first.lastIndexOf('.') + 1);
    }

    static List<PluginDescription> plugins(BundleContext context, ServiceComponentRuntime scr) {
        List<PluginDescription> out = new ArrayList<>();
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(null, "(" + RewardModel.NAME + "=*)");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
            String[] classes = (String[]) r.getProperty(Constants.OBJECTCLASS);
            if (Arrays.asList(classes).contains(Trainer.class.getName())
                    || Arrays.asList(classes).contains(StageCheck.class.getName())) {
                continue; // trainers (and their stage checks) come from their component descriptions below
            }
            Bundle b = r.getBundle();
            if (b == null) {
                continue; // unregistered meanwhile
            }
            Map<String, String> props = new TreeMap<>();
            for (String k : r.getPropertyKeys()) {
                if (!k.equals(Constants.OBJECTCLASS) && !k.startsWith("component.") && !k.equals("service.bundleid")
                        && !k.equals("service.scope")) {
                    props.put(k, text(r.getProperty(k)));
                }
            }
            out.add(new PluginDescription(kind(classes, r.getProperty(LossFamily.PROPERTY)),
                    text(r.getProperty(RewardModel.NAME)), b.getSymbolicName(), b.getVersion().toString(), props));
        }
        if (scr != null) {
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                if (d.serviceInterfaces == null || !Arrays.asList(d.serviceInterfaces).contains(
                        Trainer.class.getName()) || d.properties == null || d.properties.get(Trainer.NAME) == null) {
                    continue;
                }
                Map<String, String> props = new TreeMap<>();
                props.put("component", d.name);
                props.put("configuration pid", d.configurationPid == null ? "" : String.join(",",
                        d.configurationPid));
                props.put("takes changes while running", String.valueOf(d.modified != null
                        && !d.modified.isEmpty()));
                out.add(new PluginDescription("trainer", String.valueOf(d.properties.get(Trainer.NAME)),
                        d.bundle == null ? "" : d.bundle.symbolicName, d.bundle == null ? "" : d.bundle.version,
                        props));
            }
        }
        out.sort(Comparator.comparing(PluginDescription::kind).thenComparing(PluginDescription::name)
                .thenComparing(PluginDescription::bundle));
        return out;
    }

    static String text(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Object[] a) {
            return String.join(", ", Arrays.stream(a).map(String::valueOf).toList());
        }
        return String.valueOf(v);
    }
}
