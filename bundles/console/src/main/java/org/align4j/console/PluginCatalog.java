package org.align4j.console;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.align4j.api.loss.LossFamily;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.train.Trainer;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * What the console lists, read from the live registry on each request: every service with an {@code align4j.name}
 * (kernels, losses, optimizers, schedules, readers, generators, tokenizers, tasks, reward models), every trainer
 * component (configured or not), and the reward models with the members and weights of ensembles.
 */
final class PluginCatalog {
    private PluginCatalog() {
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

    static List<Map<String, Object>> plugins(BundleContext context, ServiceComponentRuntime scr) {
        List<Map<String, Object>> out = new ArrayList<>();
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(null, "(" + RewardModel.NAME + "=*)");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
            String[] classes = (String[]) r.getProperty(Constants.OBJECTCLASS);
            if (Arrays.asList(classes).contains(Trainer.class.getName())) {
                continue; // trainers come from their component descriptions below, configured or not
            }
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("kind", kind(classes, r.getProperty(LossFamily.PROPERTY)));
            p.put("name", String.valueOf(r.getProperty(RewardModel.NAME)));
            bundle(p, r.getBundle());
            Map<String, String> props = new TreeMap<>();
            for (String k : r.getPropertyKeys()) {
                if (!k.equals(Constants.OBJECTCLASS) && !k.startsWith("component.") && !k.equals("service.bundleid")
                        && !k.equals("service.scope")) {
                    props.put(k, text(r.getProperty(k)));
                }
            }
            p.put("properties", props);
            out.add(p);
        }
        if (scr != null) {
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                if (d.serviceInterfaces == null || !Arrays.asList(d.serviceInterfaces).contains(
                        Trainer.class.getName()) || d.properties == null || d.properties.get(Trainer.NAME) == null) {
                    continue;
                }
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("kind", "trainer");
                p.put("name", String.valueOf(d.properties.get(Trainer.NAME)));
                p.put("bundle", d.bundle == null ? "" : d.bundle.symbolicName);
                p.put("bundleVersion", d.bundle == null ? "" : d.bundle.version);
                Map<String, String> props = new TreeMap<>();
                props.put("component", d.name);
                props.put("configuration pid", d.configurationPid == null ? "" : String.join(",",
                        d.configurationPid));
                props.put("takes changes while running", String.valueOf(d.modified != null
                        && !d.modified.isEmpty()));
                p.put("properties", props);
                out.add(p);
            }
        }
        out.sort(Comparator.comparing((Map<String, Object> m) -> (String) m.get("kind"))
                .thenComparing(m -> (String) m.get("name")).thenComparing(m -> (String) m.get("bundle")));
        return out;
    }

    /** Reward models, and for an ensemble the models its members filter selects now, with their weights. */
    static List<Map<String, Object>> rewards(BundleContext context, RewardModels models) {
        List<Map<String, Object>> out = new ArrayList<>();
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(RewardModel.class.getName(), null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
            Map<String, Object> m = new LinkedHashMap<>();
            String name = text(r.getProperty(RewardModel.NAME));
            m.put("name", name);
            m.put("version", text(r.getProperty(RewardModel.VERSION)));
            m.put("aspect", text(r.getProperty(RewardModel.ASPECT)));
            bundle(m, r.getBundle());
            List<Map<String, Object>> members = new ArrayList<>();
            Object filter = r.getProperty("members");
            if (filter != null && models != null) {
                Map<String, Double> weights = weights(r.getProperty("weights"));
                try {
                    for (RewardModelInfo i : models.models(String.valueOf(filter))) {
                        if (i.name().equals(name)) {
                            continue;
                        }
                        Map<String, Object> x = new LinkedHashMap<>();
                        x.put("name", i.name());
                        x.put("version", i.version());
                        x.put("weight", weights.getOrDefault(i.name(), 1.0));
                        members.add(x);
                    }
                } catch (IllegalArgumentException bad) {
                    m.put("membersError", bad.getMessage());
                }
                m.put("combine", text(r.getProperty("combine")));
                m.put("membersFilter", String.valueOf(filter));
            }
            m.put("members", members);
            out.add(m);
        }
        out.sort(Comparator.comparing((Map<String, Object> x) -> (String) x.get("name"))
                .thenComparing(x -> (String) x.get("version")));
        return out;
    }

    /** {@code name=weight} entries (a list, or one comma-separated string). */
    static Map<String, Double> weights(Object v) {
        Map<String, Double> w = new LinkedHashMap<>();
        if (v == null) {
            return w;
        }
        List<String> items = new ArrayList<>();
        if (v instanceof String[] a) {
            items.addAll(Arrays.asList(a));
        } else {
            items.add(String.valueOf(v));
        }
        for (String item : items) {
            for (String part : item.split(",")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    try {
                        w.put(part.substring(0, eq).trim(), Double.parseDouble(part.substring(eq + 1).trim()));
                    } catch (NumberFormatException ignored) {
                        // the ensemble itself refuses such a weight; nothing to show
                    }
                }
            }
        }
        return w;
    }

    private static void bundle(Map<String, Object> m, Bundle b) {
        m.put("bundle", b == null ? "" : b.getSymbolicName());
        m.put("bundleVersion", b == null ? "" : b.getVersion().toString());
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
