package org.align4j.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.xml.parsers.DocumentBuilderFactory;

import org.apache.felix.framework.Felix;
import org.apache.felix.framework.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.wiring.FrameworkWiring;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Resolves each feature of the repository, with the features it names and nothing else, in a bare Felix framework:
 * the check karaf-maven-plugin's {@code verify} makes, without a Karaf download. A feature that misses a bundle its
 * bundles import from fails with the missing requirement.
 */
class FeaturesResolveTest {
    private static final Map<String, List<String>> BUNDLES = new LinkedHashMap<>();
    private static final Map<String, List<String>> FEATURES = new HashMap<>();

    @TempDir
    static Path cache;

    @BeforeAll
    static void read() throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(Paths.get(System.getProperty("features.file")).toFile());
        NodeList features = doc.getDocumentElement().getElementsByTagName("feature");
        for (int i = 0; i < features.getLength(); i++) {
            Element f = (Element) features.item(i);
            if (!f.hasAttribute("name")) {
                continue; // a <feature> reference inside a feature
            }
            List<String> bundles = new ArrayList<>();
            List<String> refs = new ArrayList<>();
            NodeList children = f.getChildNodes();
            for (int j = 0; j < children.getLength(); j++) {
                if (children.item(j) instanceof Element) {
                    Element c = (Element) children.item(j);
                    if (c.getTagName().equals("bundle")) {
                        bundles.add(c.getTextContent().trim());
                    } else if (c.getTagName().equals("feature")) {
                        refs.add(c.getTextContent().trim());
                    }
                }
            }
            BUNDLES.put(f.getAttribute("name"), bundles);
            FEATURES.put(f.getAttribute("name"), refs);
        }
    }

    @Test
    void theRepositoryHasOneFeaturePerRole() {
        assertTrue(BUNDLES.keySet().containsAll(List.of("align4j-api", "align4j-runtime", "align4j-data",
                "align4j-model", "align4j-losses", "align4j-optimizers", "align4j-trainers", "align4j-pipeline",
                "align4j")), BUNDLES.keySet().toString());
        for (List<String> refs : FEATURES.values()) {
            for (String r : refs) {
                assertTrue(BUNDLES.containsKey(r), "a feature names the unknown feature " + r);
            }
        }
    }

    @Test
    void theWholeFeatureHoldsEveryBundleOfTheDistribution() throws Exception {
        Set<String> fromFeature = new LinkedHashSet<>();
        for (String url : closure("align4j")) {
            fromFeature.add(file(url).getFileName().toString());
        }
        Path dist = Paths.get(System.getProperty("reactor.root"), "distribution/target/align4j/bundle");
        Set<String> shipped = new LinkedHashSet<>();
        try (var s = Files.list(dist)) {
            s.forEach(p -> shipped.add(p.getFileName().toString()));
        }
        assertEquals(shipped, fromFeature);
    }

    @TestFactory
    List<DynamicTest> eachFeatureResolvesOnItsOwn() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String feature : BUNDLES.keySet()) {
            tests.add(DynamicTest.dynamicTest(feature, () -> resolve(feature)));
        }
        return tests;
    }

    private static void resolve(String feature) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, cache.resolve(feature).toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // Felix reports why a bundle does not resolve through its logger: collect those lines for the failure message
        List<String> why = new ArrayList<>();
        props.put("felix.log.level", "1");
        props.put("felix.log.logger", new Logger() {
            @Override
            protected void doLog(Bundle bundle, ServiceReference sr, int level, String msg, Throwable t) {
                why.add((bundle == null ? "" : bundle.getSymbolicName() + ": ") + msg
                        + (t == null ? "" : " " + t.getMessage()));
            }
        });
        Framework fw = new Felix(props);
        fw.init();
        try {
            List<Bundle> installed = new ArrayList<>();
            for (String url : closure(feature)) {
                installed.add(fw.getBundleContext().installBundle("reference:" + file(url).toUri()));
            }
            boolean ok = fw.adapt(FrameworkWiring.class).resolveBundles(installed);
            if (!ok) {
                for (Bundle b : installed) {
                    if (b.getState() == Bundle.INSTALLED) {
                        why.add(b.getSymbolicName() + " is not resolved");
                    }
                }
                fail("feature " + feature + " does not resolve on its own:\n  " + String.join("\n  ", why));
            }
            assertFalse(installed.isEmpty());
        } finally {
            fw.stop();
            fw.waitForStop(10_000);
        }
    }

    /** The bundles of {@code feature} and of every feature it names, each once. */
    private static Set<String> closure(String feature) {
        Set<String> out = new LinkedHashSet<>();
        for (String ref : FEATURES.getOrDefault(feature, List.of())) {
            out.addAll(closure(ref));
        }
        out.addAll(BUNDLES.get(feature));
        return out;
    }

    /** {@code mvn:g/a/v} as a file: align4j's own from the reactor's target folders, others from the local repo. */
    private static Path file(String url) {
        if (!url.startsWith("mvn:")) {
            throw new IllegalArgumentException("only mvn: bundle URLs are used here, got " + url);
        }
        String[] gav = url.substring(4).split("/");
        Path p;
        if (gav[0].equals("org.align4j")) {
            String module = gav[1].substring("align4j-".length());
            p = Paths.get(System.getProperty("reactor.root"), "bundles", module, "target",
                    gav[1] + "-" + gav[2] + ".jar");
        } else {
            p = Paths.get(System.getProperty("maven.repo.local"), gav[0].replace('.', '/'), gav[1], gav[2],
                    gav[1] + "-" + gav[2] + ".jar");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(url + ": no file at " + p);
        }
        return p.toAbsolutePath().normalize();
    }
}
