package org.align4j.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.w3c.dom.NodeList;

/**
 * The Karaf promise, checked as a user would make it: a stock Apache Karaf 4.4 (the distribution from Maven Central,
 * unpacked afresh) is started as a process of its own; through {@code bin/client} (SSH, the stock user karaf)
 * {@code feature:repo-add} adds this module's features.xml and {@code feature:install align4j} installs the umbrella
 * feature. Then, typed at Karaf's console, {@code align4j:plugins} must list the pretrain trainer and the mha
 * attention kernel, and {@code align4j:run <file> stages.0.steps=3} must train a tiny pipeline (pre-training on
 * generated arithmetic) to its end and say so, leaving its metrics log, a checkpoint and the model in the run folder.
 *
 * <p>Karaf resolves {@code mvn:} URLs from its own system folder and from {@code target/karaf-repo} only (the build
 * copies every bundle the features name there, in Maven layout): never from a local Maven repository or the
 * network, so the test holds on a fresh clone, where align4j's bundles exist only in the reactor. Every step has a
 * time limit and Karaf is stopped (killed if it must be) whatever happens; a failure's message holds the client's
 * transcript and the end of Karaf's log and console output.
 */
class StockKarafIT {
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[;?\\d]*[A-Za-z]");
    private static final Pattern MVN = Pattern.compile("mvn:([^/]+)/([^/]+)/([^/]+)");
    private static final Pattern PRETRAIN = Pattern.compile("(?m)^\\s*trainer\\s+pretrain\\s");
    private static final Pattern MHA = Pattern.compile("(?m)^\\s*attention\\b.*\\smha\\s");
    private static final Pattern KAR_STARTED = Pattern.compile("(?m)^kar\\s*\\|.*\\|\\s*Started\\s*\\|");

    private final Path archive = property("karaf.archive");
    private final Path repo = property("karaf.repo");
    private final Path features = property("features.file");
    private final Path work = property("karaf.work");
    private final StringBuilder transcript = new StringBuilder();
    private Path home;
    private int sshPort;
    private Process karaf;

    /** What {@code bin/client} gave for one command line: its exit status and its output, colours removed. */
    record Typed(int exit, String out) {
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void theAlign4jFeatureRunsAPipelineInAStockKaraf() throws Exception {
        assertRepositoryHoldsEveryBundle();
        unpackAndConfigure();
        Path pipeline = tinyPipeline(work.resolve("tiny"));
        Thread killer = new Thread(this::kill, "stock-karaf-killer");
        Runtime.getRuntime().addShutdownHook(killer); // the fork killed by failsafe's timeout takes Karaf along
        long t0 = System.nanoTime();
        try {
            start();
            awaitBoot(Deadline.seconds(150));
            System.out.printf("stock Karaf up in %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);

            Typed added = client("feature:repo-add " + features.toUri(), 60);
            check(added.exit() == 0 && added.out().contains("Adding feature url"), "feature:repo-add failed");
            Typed installed = client("feature:install align4j", 240);
            check(installed.exit() == 0 && !installed.out().contains("Error executing command"),
                    "feature:install align4j failed");
            System.out.printf("align4j installed at %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);

            Typed plugins = awaitPlugins(Deadline.seconds(90));
            check(MHA.matcher(plugins.out()).find(), "align4j:plugins lists no mha attention kernel");

            Typed run = shell("align4j:run " + pipeline + " stages.0.steps=3", 240);
            check(run.exit() == 0 && run.out().contains("run karaf-tiny completed")
                    && !run.out().contains("align4j:run:") && !run.out().contains("Error executing"),
                    "align4j:run did not complete");
            System.out.printf("tiny run done at %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
            checkRunFolder(pipeline.resolveSibling("run"));
            checkNothingWasFetched();
        } finally {
            stop();
            Runtime.getRuntime().removeShutdownHook(killer);
            try {
                Files.writeString(work.resolve("client-transcript.txt"), transcript);
            } catch (IOException e) {
                System.out.println("could not keep the client transcript: " + e);
            }
            System.out.printf("stock Karaf test took %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
        }
    }

    // ---------------------------------------------------------------------------------------------- preparation

    /** Every {@code mvn:} bundle of features.xml must be in the test repository, or Karaf could not find it. */
    private void assertRepositoryHoldsEveryBundle() throws Exception {
        NodeList bundles = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(features.toFile())
                .getElementsByTagName("bundle");
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < bundles.getLength(); i++) {
            String url = bundles.item(i).getTextContent().trim();
            Matcher m = MVN.matcher(url);
            if (!m.matches()) {
                missing.add(url + " (not a mvn:group/artifact/version URL)");
                continue;
            }
            Path jar = repo.resolve(m.group(1).replace('.', '/')).resolve(m.group(2)).resolve(m.group(3))
                    .resolve(m.group(2) + "-" + m.group(3) + ".jar");
            if (!Files.isRegularFile(jar)) {
                missing.add(url);
            }
        }
        assertEquals(List.of(), missing, "features.xml names bundles that " + repo + " lacks: declare them in"
                + " features/pom.xml (scope provided), which copies them there");
    }

    /**
     * Unpacks the archive into an empty {@code karaf.work} and configures the copy: SSH and RMI on free ports of
     * 127.0.0.1, the stock user karaf enabled, and Maven URLs resolved from the system folder and the test
     * repository only (offline, no remote repository, an empty local repository, no settings.xml).
     */
    private void unpackAndConfigure() throws Exception {
        deleteTree(work);
        Files.createDirectories(work);
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", work.toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("tar.log").toFile()).start();
        assertTrue(tar.waitFor(120, TimeUnit.SECONDS) && tar.exitValue() == 0,
                () -> "tar -xzf " + archive + " failed: " + read(work.resolve("tar.log")));
        try (Stream<Path> s = Files.list(work)) {
            home = s.filter(p -> p.getFileName().toString().startsWith("apache-karaf-")).findFirst()
                    .orElseThrow(() -> new AssertionError(archive + " holds no apache-karaf-* folder"));
        }
        Path etc = home.resolve("etc");
        sshPort = freePort();
        edit(etc.resolve("org.apache.karaf.shell.cfg"), Map.of("sshPort", String.valueOf(sshPort),
                "sshHost", "127.0.0.1"));
        edit(etc.resolve("org.apache.karaf.management.cfg"), Map.of("rmiRegistryPort", String.valueOf(freePort()),
                "rmiServerPort", String.valueOf(freePort())));
        // 4.4 ships its only user commented out
        Files.writeString(etc.resolve("users.properties"), "\nkaraf = karaf,_g_:admingroup\n"
                + "_g_\\:admingroup = group,admin,manager,viewer,systembundles,ssh\n", StandardOpenOption.APPEND);
        Files.writeString(etc.resolve("align4j-it-settings.xml"), "<settings/>\n");
        Files.writeString(etc.resolve("org.ops4j.pax.url.mvn.cfg"), String.join("\n",
                "# by StockKarafIT: Karaf's system folder and the build's copy of the features' bundles, nothing else",
                "org.ops4j.pax.url.mvn.offline = true",
                "org.ops4j.pax.url.mvn.useFallbackRepositories = false",
                "org.ops4j.pax.url.mvn.settings = " + etc.resolve("align4j-it-settings.xml"),
                "org.ops4j.pax.url.mvn.localRepository = " + localRepository(),
                "org.ops4j.pax.url.mvn.defaultRepositories = "
                        + "${karaf.home.uri}${karaf.default.repository}@id=system.repository@snapshots, "
                        + repo.toUri() + "@id=align4j.it@snapshots",
                "org.ops4j.pax.url.mvn.repositories =",
                ""));
    }

    /** Sets {@code key = value} on the line that sets {@code key} now; fails if there is none. */
    private static void edit(Path cfg, Map<String, String> values) throws IOException {
        String text = Files.readString(cfg);
        for (Map.Entry<String, String> e : values.entrySet()) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(e.getKey()) + "\\s*=.*$").matcher(text);
            assertTrue(m.find(), cfg + " sets no " + e.getKey() + ": the stock Karaf changed its files");
            text = m.replaceFirst(Matcher.quoteReplacement(e.getKey() + " = " + e.getValue()));
        }
        Files.writeString(cfg, text);
    }

    private Path localRepository() {
        return home.resolve("data/it-m2");
    }

    /** A pipeline of one tiny pre-training stage on generated arithmetic, with absolute paths only. */
    private static Path tinyPipeline(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, String.join("\n",
                "run: { name: karaf-tiny, workdir: '" + dir.resolve("run") + "', seed: 3 }",
                "model: { layers: 1, d_model: 32, heads: 2, context: 16, attention: mha }",
                "data:",
                "  generate: { name: arithmetic, count: 1000, max_operand: 20 }",
                "  validation_fraction: 0.1",
                "  tokenizer: { type: bpe, vocab: 300 }",
                "stages:",
                "  - trainer: pretrain",
                "    loss: causal-lm",
                "    optimizer: { name: adamw, lr: 3.0e-3, warmup: 1, clip_norm: 1.0 }",
                "    steps: 50",
                "    batch: 8",
                "    log_every: 1",
                "    sample: { count: 1, max_tokens: 4, prompts: ['3+'] }",
                ""));
        return file;
    }

    // ------------------------------------------------------------------------------------------------- Karaf

    /** {@code bin/karaf daemon}: no local console, the SSH shell on, the JVM in place of the script. */
    private void start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/karaf").toString(), "daemon").directory(home.toFile())
                .redirectErrorStream(true).redirectOutput(console().toFile());
        env(pb);
        pb.environment().put("EXTRA_JAVA_OPTS", "-Xmx1g -Dorg.bytedeco.javacpp.cachedir="
                + System.getProperty("org.bytedeco.javacpp.cachedir",
                        Paths.get(System.getProperty("user.home"), ".javacpp", "align4j-it").toString()));
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "1");
        karaf = pb.start();
    }

    /** Until {@code feature:list -i} shows the last boot feature (kar) started: SSH is up and the boot is over. */
    private void awaitBoot(Deadline deadline) throws Exception {
        Typed last = null;
        while (!deadline.passed()) {
            check(karaf.isAlive(), "Karaf ended while starting (exit " + exitOf(karaf) + ")");
            last = client("feature:list -i", 30);
            if (last.exit() == 0 && KAR_STARTED.matcher(last.out()).find()) {
                return;
            }
            Thread.sleep(2000);
        }
        check(false, "Karaf did not finish booting (or its SSH shell did not answer) in time; last answer: " + last);
    }

    /** Until {@code align4j:plugins} lists the pretrain trainer (components start after the install returns). */
    private Typed awaitPlugins(Deadline deadline) throws Exception {
        Typed last = null;
        while (!deadline.passed()) {
            last = shell("align4j:plugins", 30);
            if (last.exit() == 0 && PRETRAIN.matcher(last.out()).find()) {
                return last;
            }
            Thread.sleep(2000);
        }
        check(false, "align4j:plugins never listed the pretrain trainer");
        return last;
    }

    /**
     * Runs one command through {@code bin/client -a <port> ... "<line>"}: Karaf's own commands print what they have
     * to say and end with a meaningful exit status.
     */
    private Typed client(String line, long seconds) throws IOException, InterruptedException {
        return karafClient(line, null, seconds);
    }

    /**
     * Types {@code line}, then {@code logout}, into an interactive {@code bin/client} session, as a person at
     * Karaf's console does. align4j's commands are Gogo functions that return what they have to say, and Karaf's
     * console prints returned values; a command passed on the client's command line would run, but Karaf prints
     * nothing it returns there.
     */
    private Typed shell(String line, long seconds) throws IOException, InterruptedException {
        return karafClient(null, line + "\nlogout\n", seconds);
    }

    /**
     * One {@code bin/client} run: {@code command} on its command line, or {@code typed} on its standard input. Its
     * standard input stays open until it ends: at the end of its input the client closes the session, often
     * before the command's output has come back.
     */
    private Typed karafClient(String command, String typed, long seconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile(work, "client-", ".log");
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/client").toString(), "-h", "127.0.0.1",
                "-a", String.valueOf(sshPort), "-u", "karaf", "-p", "karaf"));
        if (command != null) {
            cmd.add(command);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        env(pb);
        Process p = pb.start();
        int exit;
        try {
            if (typed != null) {
                p.getOutputStream().write(typed.getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().flush();
            }
            if (p.waitFor(seconds, TimeUnit.SECONDS)) {
                exit = p.exitValue();
            } else {
                destroyTree(p);
                exit = -1;
            }
        } finally {
            p.getOutputStream().close();
        }
        String text = ANSI.matcher(read(out)).replaceAll("").replace("\r", "");
        Files.deleteIfExists(out);
        transcript.append(command != null ? "$ bin/client \"" + command + "\"\n" : "$ bin/client <<< \"" + typed
                .replace("\n", "\\n") + "\"\n").append(text).append(text.endsWith("\n") ? "" : "\n")
                .append(exit < 0 ? "(no answer in " + seconds + " s: killed)" : "(exit " + exit + ")").append('\n');
        return new Typed(exit, text);
    }

    private static void env(ProcessBuilder pb) {
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("EXTRA_JAVA_OPTS");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("KARAF_OPTS");
    }

    /** {@code bin/stop}, then waits; kills Karaf if it does not end in time. Deletes its bundle cache after. */
    private void stop() {
        if (karaf == null) {
            return;
        }
        try {
            if (karaf.isAlive()) {
                ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/stop").toString()).directory(home.toFile())
                        .redirectErrorStream(true).redirectOutput(work.resolve("stop.log").toFile());
                env(pb);
                Process stop = pb.start();
                if (!stop.waitFor(60, TimeUnit.SECONDS)) {
                    destroyTree(stop);
                }
                stop.getOutputStream().close();
            }
            if (!karaf.waitFor(60, TimeUnit.SECONDS)) {
                System.out.println("Karaf did not stop in 60 s after bin/stop: killed");
            }
        } catch (IOException | InterruptedException e) {
            System.out.println("stopping Karaf: " + e);
        } finally {
            kill();
        }
        try {
            deleteTree(home.resolve("data/cache")); // another copy of every bundle, TensorFlow's 166 MB among them
        } catch (IOException | UncheckedIOException e) {
            System.out.println("could not delete Karaf's bundle cache: " + e);
        }
    }

    private void kill() {
        if (karaf != null && karaf.isAlive()) {
            destroyTree(karaf);
        }
    }

    private static void destroyTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** The run folder: the metrics log ends the stage at step 3, and a checkpoint and a model were written. */
    private void checkRunFolder(Path run) throws IOException {
        Path metrics = run.resolve("metrics.jsonl");
        check(Files.isRegularFile(metrics), "the run wrote no " + metrics);
        String log = Files.readString(metrics);
        check(log.contains("\"kind\":\"STAGE_FINISHED\"") && log.contains("\"step\":3,")
                && !log.contains("\"step\":4,"), "metrics.jsonl does not end the stage at step 3:\n" + log);
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.walk(run)) {
            s.forEach(p -> names.add(run.relativize(p).toString()));
        }
        check(names.stream().anyMatch(n -> n.endsWith("model.safetensors")), "no model.safetensors in " + names);
        check(names.stream().anyMatch(n -> Paths.get(n).getFileName().toString().startsWith("checkpoint-")),
                "no checkpoint-* in " + names);
    }

    /** Nothing went through pax-url's local repository: every bundle came straight from the two folders. */
    private void checkNothingWasFetched() throws IOException {
        List<String> fetched = new ArrayList<>();
        if (Files.isDirectory(localRepository())) {
            try (Stream<Path> s = Files.walk(localRepository())) {
                s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".jar"))
                        .forEach(p -> fetched.add(p.toString()));
            }
        }
        check(fetched.isEmpty(), "Karaf fetched bundles into its local repository: " + fetched);
    }

    private void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what + report());
        }
    }

    /** The client transcript, and the ends of Karaf's log and console output. */
    private String report() {
        StringBuilder b = new StringBuilder("\n--- bin/client transcript\n").append(transcript);
        if (home != null) {
            b.append("--- data/log/karaf.log (last 150 lines)\n").append(tail(home.resolve("data/log/karaf.log"), 150));
            b.append("--- console (last 60 lines)\n").append(tail(console(), 60));
        }
        return b.toString();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private Path console() {
        return work.resolve("karaf-console.log");
    }

    private static String tail(Path file, int lines) {
        if (!Files.isRegularFile(file)) {
            return "(no " + file + ")\n";
        }
        List<String> all = read(file).lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String exitOf(Process p) {
        return p.isAlive() ? "none yet" : String.valueOf(p.exitValue());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Path property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank() || v.startsWith("${")) {
            throw new IllegalStateException("system property " + name + " is not set (failsafe sets it in"
                    + " features/pom.xml)");
        }
        return Paths.get(v).toAbsolutePath().normalize();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A point in time a wait gives up at. */
    private record Deadline(long nanos) {
        static Deadline seconds(long s) {
            return new Deadline(System.nanoTime() + TimeUnit.SECONDS.toNanos(s));
        }

        boolean passed() {
            return System.nanoTime() - nanos > 0;
        }
    }
}
