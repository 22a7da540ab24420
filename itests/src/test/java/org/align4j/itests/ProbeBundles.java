package org.align4j.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
        Files.createDirectories(jar.getParent());
        String entry = ProbeAttention.class.getName().replace('.', '/') + ".class";
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m);
                InputStream in = ProbeAttention.class.getClassLoader().getResourceAsStream(entry)) {
            if (in == null) {
                throw new IOException("cannot read " + entry + " from the test's class loader");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            out.putNextEntry(new JarEntry(entry));
            out.write(bytes.toByteArray());
            out.closeEntry();
        }
        return jar;
    }
}
