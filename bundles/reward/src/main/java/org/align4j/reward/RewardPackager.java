package org.align4j.reward;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * Builds a reward-model bundle from a model folder: a jar whose manifest carries
 * {@code Align4j-RewardModel: name=...;version=...;aspect=...} and whose {@code reward-model/} folder holds
 * {@code config.json}, {@code model.safetensors} and {@code tokenizer.json} (and {@code reference/}, see
 * {@link #REFERENCE}). Installed and started next to the
 * align4j-reward bundle, it is a reward model while it is active ({@link RewardModelExtender}). Plain static API, for
 * {@code align4j package-reward} and tests; it needs nothing but the JDK, so it also runs as
 * {@code java -cp align4j-reward.jar org.align4j.reward.RewardPackager <model-folder> <name> <version> <aspect> <jar>}.
 */
public final class RewardPackager {
    /** The manifest header the extender reads. */
    public static final String HEADER = "Align4j-RewardModel";
    /** The folder inside the jar that holds the model's files. */
    public static final String FOLDER = "reward-model/";
    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.safetensors";
    static final String TOKENIZER = "tokenizer.json";
    /** The files of a reward-model folder. */
    public static final List<String> FILES = List.of(CONFIG, WEIGHTS, TOKENIZER);
    /**
     * The subfolder of a reward model that scores with a frozen reference's likelihood
     * ({@code "likelihood_reference": true} in its {@code config.json}): that model's {@code config.json} and
     * {@code model.safetensors}, packaged under {@code reward-model/reference/}.
     */
    public static final String REFERENCE = "reference";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern OSGI_VERSION = Pattern.compile("\\d+(\\.\\d+){0,2}");

    private RewardPackager() {
    }

    /**
     * Writes the bundle to {@code jar} (a temporary file renamed into place).
     *
     * @param name the reward model's {@code align4j.name}: letters, digits, {@code . _ -}
     * @param version its {@code align4j.version}: no {@code ;} or {@code "}
     * @param aspect its {@code align4j.aspect}, like a name
     * @return {@code jar}
     * @throws IOException when a file of the folder is missing or the jar cannot be written
     * @throws IllegalArgumentException naming the bad argument
     */
    public static Path write(Path modelFolder, String name, String version, String aspect, Path jar)
            throws IOException {
        checkArguments(name, version, aspect);
        for (String f : FILES) {
            if (!Files.isRegularFile(modelFolder.resolve(f))) {
                throw new IOException(modelFolder + ": no " + f + " in the model folder (a reward-model folder holds "
                        + String.join(", ", FILES) + ", as a reward stage writes them to"
                        + " <workdir>/stage-<i>-reward/model)");
            }
        }
        // a model scoring with a frozen reference's likelihood needs that model too
        boolean reference = Files.readString(modelFolder.resolve(CONFIG)).matches("(?s).*\"likelihood_reference\"\\s*:\\s*true.*");
        if (reference) {
            for (String f : List.of(CONFIG, WEIGHTS)) {
                if (!Files.isRegularFile(modelFolder.resolve(REFERENCE).resolve(f))) {
                    throw new IOException(modelFolder + ": " + CONFIG + " says likelihood_reference, but there is no "
                            + REFERENCE + "/" + f + " (the frozen model it scores with, as the reward stage writes it)");
                }
            }
        }
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "align4j.reward." + name.toLowerCase(Locale.ROOT));
        a.putValue("Bundle-Version", bundleVersion(version));
        a.putValue("Bundle-Name", "align4j reward model " + name + " " + version);
        // wires the bundle to the reward api the extender's services implement
        a.putValue("Import-Package", "org.align4j.api.reward;version=\"[2.0,3)\"");
        a.putValue(HEADER, "name=" + name + ";version=\"" + version + "\";aspect=" + aspect);
        Path parent = jar.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, jar.getFileName().toString(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp); JarOutputStream j = new JarOutputStream(out, m)) {
                j.putNextEntry(new JarEntry(FOLDER));
                j.closeEntry();
                for (String f : FILES) {
                    j.putNextEntry(new JarEntry(FOLDER + f));
                    Files.copy(modelFolder.resolve(f), j);
                    j.closeEntry();
                }
                if (reference) {
                    j.putNextEntry(new JarEntry(FOLDER + REFERENCE + "/"));
                    j.closeEntry();
                    for (String f : List.of(CONFIG, WEIGHTS)) {
                        j.putNextEntry(new JarEntry(FOLDER + REFERENCE + "/" + f));
                        Files.copy(modelFolder.resolve(REFERENCE).resolve(f), j);
                        j.closeEntry();
                    }
                }
            }
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return jar;
    }

    /** Checks a name, version and aspect; the message starts with the argument's name and a colon. */
    static void checkArguments(String name, String version, String aspect) {
        check("name", name, NAME);
        check("aspect", aspect, NAME);
        if (version == null || version.isBlank() || version.indexOf(';') >= 0 || version.indexOf('"') >= 0
                || version.indexOf(',') >= 0) {
            throw new IllegalArgumentException("version: expected e.g. 2 or 2026-11-29.1 (no ; , or \"), got \""
                    + version + "\"");
        }
    }

    /** {@code <model-folder> <name> <version> <aspect> <jar>}; exits 0 done, 1 failed, 2 bad usage. */
    public static void main(String[] args) {
        if (args.length != 5) {
            System.err.println("usage: package-reward <model-folder> <name> <version> <aspect> <jar>\n"
                    + "  e.g. package-reward runs/rm/stage-1-reward/model helpful 2 helpfulness helpful-2.jar");
            System.exit(2);
        }
        try {
            Path jar = write(Path.of(args[0]), args[1], args[2], args[3], Path.of(args[4]));
            System.out.println("wrote " + jar + ": reward model " + args[1] + " " + args[2] + " (" + args[3]
                    + "); copy it into the distribution's deploy/ folder, or install and start it");
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("package-reward: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void check(String what, String value, Pattern p) {
        if (value == null || !p.matcher(value).matches()) {
            throw new IllegalArgumentException(what + ": expected letters, digits, '.', '_' or '-', got \"" + value
                    + "\"");
        }
    }

    /** {@code 2} → {@code 2.0.0}; a version that is not {@code major.minor.micro} becomes a qualifier. */
    static String bundleVersion(String version) {
        if (OSGI_VERSION.matcher(version).matches()) {
            String[] parts = (version + ".0.0").split("\\.");
            return parts[0] + "." + parts[1] + "." + parts[2];
        }
        return "0.0.0." + version.replaceAll("[^A-Za-z0-9_-]", "_");
    }
}
