package org.align4j.console;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.reward.RewardModel;
import org.align4j.api.reward.RewardModelInfo;
import org.align4j.api.reward.RewardModels;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The reward models the console lists, read from the live registry on each request, with the members and weights
 * of ensembles.
 */
final class PluginCatalog {
    private PluginCatalog() {
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

    /** A property as text: arrays joined with commas, nothing for a missing one. */
    static String text(Object v) {
        Object[] values = v instanceof Object[] a ? a : v == null ? new Object[0] : new Object[] {v};
        StringBuilder b = new StringBuilder();
        for (Object x : values) {
            b.append(b.length() == 0 ? "" : ", ").append(x);
        }
        return b.toString();
    }
}
