package org.align4j.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Builds real bundle jars of {@link ProbeAttention}, as a third party's build would. */
final class ProbeBundles {
    private ProbeBundles() {
    }

    /** Packs {@link ProbeAttention} into a bundle of its own, as a third party's build would. */
    static Path build(Path jar, String symbolicName) throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", symbolicName);
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Bundle-Activator", ProbeAttention.class.getName());
        a.putValue("Import-Package", "org.align4j.api.attention;version=\"[1.0,2)\",org.osgi.framework,"
                + "org.tensorflow,org.tensorflow.op,org.tensorflow.op.core,org.tensorflow.op.train,org.tensorflow.op.dtypes,"
                + "org.tensorflow.op.math,org.tensorflow.op.nn,org.tensorflow.op.linalg,"
                + "org.tensorflow.types,org.tensorflow.types.family,org.tensorflow.ndarray");
        return write(jar, m, Map.of(entry(ProbeAttention.class), classBytes(ProbeAttention.class)));
    }

    /** A bundle jar of {@code manifest} and {@code entries} (path in the jar to content). */
    static Path write(Path jar, Manifest manifest, Map<String, byte[]> entries) throws IOException {
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return jar;
    }

    /** A bundle manifest with these headers (name, value, name, value, ...). */
    static Manifest manifest(String... headers) {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        for (int i = 0; i < headers.length; i += 2) {
            a.putValue(headers[i], headers[i + 1]);
        }
        return m;
    }

    /** The path of {@code type}'s class file in a jar. */
    static String entry(Class<?> type) {
        return type.getName().replace('.', '/') + ".class";
    }

    /** The class file of {@code type}, from the test's class loader. */
    static byte[] classBytes(Class<?> type) throws IOException {
        String entry = entry(type);
        try (InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
            if (in == null) {
                throw new IOException("cannot read " + entry + " from the test's class loader");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            return bytes.toByteArray();
        }
    }
}
