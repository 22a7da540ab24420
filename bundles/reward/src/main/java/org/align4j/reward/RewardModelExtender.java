package org.align4j.reward;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.reward.RewardModel;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.util.tracker.BundleTracker;
import org.osgi.util.tracker.BundleTrackerCustomizer;

/**
 * The reward-model extender: a bundle whose manifest has
 * {@code Align4j-RewardModel: name=helpful;version=2;aspect=helpfulness} and whose {@code reward-model/} folder holds
 * a model folder's files ({@link RewardPackager} writes such bundles) is a {@link LearnedRewardModel} while it is
 * active: its files are copied to this bundle's data area, and the service is registered in the model bundle's own
 * context (so it is listed with that bundle's name), and unregistered and closed when the bundle stops.
 * {@code version} defaults to the bundle's version, {@code aspect} to {@code overall}; {@code name} is required.
 */
@Component(service = {})
public final class RewardModelExtender {

    /** Registers a model for a bundle; returns how to unregister it. */
    interface Registrar {
        Runnable register(Bundle bundle, RewardModel model, Hashtable<String, Object> properties);
    }

    /** What the extender made for one bundle. */
    static final class Extended {
        final LearnedRewardModel model;
        final Runnable unregister;
        final Path folder;
        final Map<String, String> header;

        Extended(LearnedRewardModel model, Runnable unregister, Path folder, Map<String, String> header) {
            this.model = model;
            this.unregister = unregister;
            this.folder = folder;
            this.header = header;
        }
    }

    /** The tracker's work without a framework: {@link #adding} and {@link #removed}. */
    static final class Logic implements BundleTrackerCustomizer<Extended> {
        private final Path dataArea;
        private final BiFunction<Path, Bundle, LearnedRewardModel> models;
        private final Registrar registrar;

        Logic(Path dataArea, BiFunction<Path, Bundle, LearnedRewardModel> models, Registrar registrar) {
            this.dataArea = dataArea;
            this.models = models;
            this.registrar = registrar;
        }

        /** Null when the bundle is no reward model (or is a broken one: then the error is printed). */
        Extended adding(Bundle bundle) {
            String value = bundle.getHeaders().get(RewardPackager.HEADER);
            if (value == null) {
                return null;
            }
            String where = bundle.getSymbolicName() + " [" + bundle.getBundleId() + "]: " + RewardPackager.HEADER;
            Path folder = null;
            try {
                Map<String, String> header = parse(value, where);
                String version = header.getOrDefault("version", bundle.getVersion().toString());
                String aspect = header.getOrDefault("aspect", "overall");
                folder = extract(bundle, where);
                LearnedRewardModel model = models.apply(folder, bundle);
                Runnable unregister = registrar.register(bundle, model,
                        LearnedRewardComponent.properties(header.get("name"), version, aspect));
                return new Extended(model, unregister, folder, header);
            } catch (IOException | RuntimeException e) {
                System.err.println("align4j: " + e.getMessage());
                delete(folder);
                return null;
            }
        }

        void removed(Extended e) {
            try {
                e.unregister.run();
            } catch (IllegalStateException alreadyGone) {
                // unregistered with the bundle
            }
            e.model.close();
            delete(e.folder);
        }

        /** {@code name=x;version="1.2";aspect=y}: a name is required; unknown keys are errors. */
        static Map<String, String> parse(String value, String where) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String part : value.split(";")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                String key = eq < 0 ? part.trim() : part.substring(0, eq).trim();
                if (eq < 0 || !(key.equals("name") || key.equals("version") || key.equals("aspect"))) {
                    throw new IllegalArgumentException(where + ": expected name=...;version=...;aspect=..., got \""
                            + part.trim() + "\"");
                }
                String v = part.substring(eq + 1).trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                out.put(key, v);
            }
            if (out.getOrDefault("name", "").isBlank()) {
                throw new IllegalArgumentException(where + ": no name (expected name=...;version=...;aspect=...)");
            }
            return out;
        }

        /**
         * Copies {@code reward-model/} (with its {@code reference/} subfolder) into a folder of its own (a temporary
         * folder renamed into place).
         */
        private Path extract(Bundle bundle, String where) throws IOException {
            Path target = dataArea.resolve(bundle.getSymbolicName() + "-" + bundle.getBundleId() + "-"
                    + bundle.getLastModified());
            if (Files.isDirectory(target)) {
                return target; // extracted before this restart
            }
            Files.createDirectories(dataArea);
            Path tmp = Files.createTempDirectory(dataArea, "extracting-");
            try {
                Enumeration<URL> entries = bundle.findEntries(RewardPackager.FOLDER, "*", true);
                int copied = 0;
                while (entries != null && entries.hasMoreElements()) {
                    URL url = entries.nextElement();
                    String path = url.getPath();
                    int at = path.indexOf(RewardPackager.FOLDER);
                    if (path.endsWith("/") || at < 0) {
                        continue;
                    }
                    // reward-model/<file> or reward-model/reference/<file>
                    Path file = tmp.resolve(path.substring(at + RewardPackager.FOLDER.length())).normalize();
                    if (!file.startsWith(tmp)) {
                        throw new IOException(where + ": entry " + path + " points outside its folder");
                    }
                    Files.createDirectories(file.getParent());
                    try (InputStream in = url.openStream()) {
                        Files.copy(in, file);
                    }
                    copied++;
                }
                if (copied == 0) {
                    throw new IOException(where + ": the bundle has no files under " + RewardPackager.FOLDER
                            + " (expected " + String.join(", ", LearnedRewardModel.FILES) + ")");
                }
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                return target;
            } finally {
                delete(tmp);
            }
        }

        private static void delete(Path folder) {
            if (folder == null || !Files.exists(folder)) {
                return;
            }
            try (Stream<Path> all = Files.walk(folder)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("align4j: could not delete " + folder + ": " + e.getMessage());
            }
        }

        @Override
        public Extended addingBundle(Bundle bundle, BundleEvent event) {
            return adding(bundle);
        }

        @Override
        public void modifiedBundle(Bundle bundle, BundleEvent event, Extended object) {
        }

        @Override
        public void removedBundle(Bundle bundle, BundleEvent event, Extended object) {
            removed(object);
        }
    }

    private final BundleTracker<Extended> tracker;

    @Activate
    public RewardModelExtender(BundleContext context, @Reference TransformerFactory transformers,
            @Reference WeightStore weights, @Reference TensorFlowRuntime runtime) {
        OsgiParts parts = new OsgiParts(context, transformers, weights, runtime);
        Logic logic = new Logic(context.getDataFile("reward-models").toPath(), (folder, bundle) -> {
            try {
                return new LearnedRewardModel(folder, parts);
            } catch (IOException e) {
                throw new IllegalArgumentException(bundle.getSymbolicName() + ": " + e.getMessage(), e);
            }
        }, (bundle, model, props) -> {
            BundleContext own = bundle.getBundleContext();
            ServiceRegistration<RewardModel> r = (own != null ? own : context).registerService(RewardModel.class,
                    model, props);
            return r::unregister;
        });
        tracker = new BundleTracker<>(context, Bundle.ACTIVE, logic);
        tracker.open();
    }

    @Deactivate
    void deactivate() {
        tracker.close();
    }
}
