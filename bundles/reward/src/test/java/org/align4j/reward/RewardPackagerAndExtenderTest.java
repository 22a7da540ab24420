package org.align4j.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.align4j.api.reward.RewardModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.Version;

/**
 * The packager's jar (header, files, bytes) and the extender's work on it without a framework: a {@link Bundle}
 * proxy over the jar is added (a learned model is registered with the header's properties and scores like the
 * folder) and removed (unregistered, closed, its extracted files deleted).
 */
class RewardPackagerAndExtenderTest {
    @TempDir
    Path dir;

    @Test
    void theJarHasTheHeaderAndTheFolderFiles() throws IOException {
        Path folder = TinyModels.write(dir.resolve("model"), TinyModels.config(0), 3);
        Path jar = RewardPackager.write(folder, "helpful", "2026-11-29.1", "helpfulness", dir.resolve("out/rm.jar"));
        try (JarFile j = new JarFile(jar.toFile())) {
            assertEquals("name=helpful;version=\"2026-11-29.1\";aspect=helpfulness",
                    j.getManifest().getMainAttributes().getValue(RewardPackager.HEADER));
            assertEquals("align4j.reward.helpful", j.getManifest().getMainAttributes().getValue("Bundle-SymbolicName"));
            assertEquals("0.0.0.2026-11-29_1", j.getManifest().getMainAttributes().getValue("Bundle-Version"));
            Version.parseVersion(j.getManifest().getMainAttributes().getValue("Bundle-Version")); // valid
            for (String f : LearnedRewardModel.FILES) {
                JarEntry e = j.getJarEntry("reward-model/" + f);
                assertArrayEquals(Files.readAllBytes(folder.resolve(f)), j.getInputStream(e).readAllBytes(), f);
            }
        }
        try (var files = Files.list(dir.resolve("out"))) {
            assertEquals(List.of(jar), files.toList(), "no temporary file is left");
        }
        assertEquals("2.0.0", RewardPackager.bundleVersion("2"));
        assertEquals("1.4.0", RewardPackager.bundleVersion("1.4"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RewardPackager.write(folder, "my model", "1", "x", dir.resolve("x.jar")));
        assertEquals("name: expected letters, digits, '.', '_' or '-', got \"my model\"", bad.getMessage());
        IOException missing = assertThrows(IOException.class, () -> RewardPackager.write(dir, "m", "1", "x",
                dir.resolve("x.jar")));
        assertTrue(missing.getMessage().startsWith(dir + ": no config.json in the model folder"),
                missing.getMessage());
    }

    /** A bundle over a jar file: headers, entries, id, symbolic name, version. */
    static Bundle bundle(Path jar, long id) throws IOException {
        Hashtable<String, String> headers = new Hashtable<>();
        List<URL> entries = new ArrayList<>();
        String symbolicName;
        try (JarFile j = new JarFile(jar.toFile())) {
            j.getManifest().getMainAttributes().forEach((k, v) -> headers.put(k.toString(), v.toString()));
            symbolicName = headers.get("Bundle-SymbolicName");
            for (JarEntry e : Collections.list(j.entries())) {
                String name = e.getName();
                if (name.startsWith("reward-model/") && name.length() > "reward-model/".length()) {
                    entries.add(new URL("jar:" + jar.toUri() + "!/" + name));
                }
            }
        }
        return (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "getHeaders":
                            return headers;
                        case "findEntries":
                            assertEquals("reward-model/", args[0]);
                            return Collections.enumeration(entries);
                        case "getSymbolicName":
                            return symbolicName;
                        case "getBundleId":
                            return id;
                        case "getLastModified":
                            return 42L;
                        case "getVersion":
                            return Version.parseVersion(headers.get("Bundle-Version"));
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
    }

    @Test
    void theExtenderRegistersWhileTheBundleIsActive() throws Exception {
        Path folder = TinyModels.write(dir.resolve("model"), TinyModels.config(0), 9);
        Path jar = RewardPackager.write(folder, "helpful", "2", "helpfulness", dir.resolve("rm.jar"));
        List<String> events = new ArrayList<>();
        List<RewardModel> registered = new ArrayList<>();
        Path data = dir.resolve("data");
        RewardModelExtender.Logic logic = new RewardModelExtender.Logic(data, (f, b) -> {
            try {
                return new LearnedRewardModel(f, TinyModels.PARTS);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }, (b, model, props) -> {
            events.add("register " + b.getSymbolicName() + " " + new java.util.TreeMap<>(props));
            registered.add(model);
            return () -> events.add("unregister " + b.getSymbolicName());
        });
        Bundle bundle = bundle(jar, 17);
        RewardModelExtender.Extended e = logic.adding(bundle);
        assertEquals(List.of("register align4j.reward.helpful {align4j.aspect=helpfulness, align4j.name=helpful,"
                + " align4j.version=2}"), events);
        assertTrue(Files.isRegularFile(e.folder.resolve("model.safetensors")));
        assertTrue(e.folder.startsWith(data));
        // the extracted model scores like the folder it was packaged from
        try (LearnedRewardModel direct = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            assertArrayEquals(direct.score(LearnedRewardModelTest.BATCH).scores(),
                    registered.get(0).score(LearnedRewardModelTest.BATCH).scores());
        }
        logic.removed(e);
        assertEquals("unregister align4j.reward.helpful", events.get(1));
        assertFalse(Files.exists(e.folder), "the extracted files are deleted");
        assertThrows(IllegalStateException.class, () -> registered.get(0).score(LearnedRewardModelTest.BATCH));
    }

    @Test
    void aModelThatScoresWithAReferenceTravelsWithIt() throws Exception {
        org.align4j.api.model.ModelConfig plain = TinyModels.config(3);
        org.align4j.api.model.ModelConfig config = plain.toBuilder().scoreLikelihood(true).likelihoodReference(true)
                .build();
        Path folder = TinyModels.write(dir.resolve("model"), config, 9);
        IOException missing = assertThrows(IOException.class, () -> RewardPackager.write(folder, "prm", "1",
                "correctness", dir.resolve("x.jar")));
        assertTrue(missing.getMessage().contains("no reference/config.json"), missing.getMessage());
        TinyModels.write(folder.resolve("reference"), TinyModels.config(0), 4);
        Path jar = RewardPackager.write(folder, "prm", "1", "correctness", dir.resolve("prm.jar"));
        try (JarFile j = new JarFile(jar.toFile())) {
            for (String f : List.of("config.json", "model.safetensors")) {
                assertArrayEquals(Files.readAllBytes(folder.resolve("reference").resolve(f)),
                        j.getInputStream(j.getJarEntry("reward-model/reference/" + f)).readAllBytes(), f);
            }
        }
        List<RewardModel> registered = new ArrayList<>();
        RewardModelExtender.Logic logic = new RewardModelExtender.Logic(dir.resolve("data"), (f, b) -> {
            try {
                return new LearnedRewardModel(f, TinyModels.PARTS);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }, (b, model, props) -> {
            registered.add(model);
            return () -> { };
        });
        RewardModelExtender.Extended e = logic.adding(bundle(jar, 18));
        assertTrue(Files.isRegularFile(e.folder.resolve("reference/model.safetensors")));
        try (LearnedRewardModel direct = new LearnedRewardModel(folder, TinyModels.PARTS)) {
            List<float[]> a = direct.score(LearnedRewardModelTest.BATCH).steps().orElseThrow();
            List<float[]> b = registered.get(0).score(LearnedRewardModelTest.BATCH).steps().orElseThrow();
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i), b.get(i), "step scores of element " + i);
            }
            assertArrayEquals(direct.score(LearnedRewardModelTest.BATCH).scores(),
                    registered.get(0).score(LearnedRewardModelTest.BATCH).scores());
        }
        logic.removed(e);
        assertFalse(Files.exists(e.folder), "the extracted files are deleted");
    }

    @Test
    void bundlesWithoutTheHeaderOrWithABadOneAreNotModels() throws Exception {
        List<String> events = new ArrayList<>();
        RewardModelExtender.Logic logic = new RewardModelExtender.Logic(dir, (f, b) -> null, (b, m, p) -> {
            events.add("register");
            return () -> { };
        });
        Bundle plain = (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> method.getName().equals("getHeaders") ? new Hashtable<String, String>()
                        : null);
        assertNull(logic.adding(plain));
        assertEquals(Map.of("name", "a", "version", "1.2", "aspect", "b"),
                RewardModelExtender.Logic.parse("name=a;version=\"1.2\";aspect=b", "w"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RewardModelExtender.Logic.parse("version=1;colour=red", "x [3]: Align4j-RewardModel"));
        assertEquals("x [3]: Align4j-RewardModel: expected name=...;version=...;aspect=..., got \"colour=red\"",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RewardModelExtender.Logic.parse("version=1", "x"));
        assertTrue(events.isEmpty());
    }
}
