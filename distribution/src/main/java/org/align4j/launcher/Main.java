package org.align4j.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.felix.framework.Felix;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Starts align4j: an embedded Felix framework with every jar of {@code bundle/} installed and started, Felix
 * FileInstall watching {@code deploy/} (drop a plugin bundle or a {@code .cfg} there), and either
 * <ul>
 * <li>{@code run <pipeline.yaml> [key=value ...]}: runs the pipeline headless and exits with its status (0 done, 1
 * failed, 2 invalid pipeline file, 3 stopped and resumable), or</li>
 * <li>{@code generate <model-folder> "<prompt>" [options]}: continues the prompt with a trained model (the
 * align4j-generate bundle; options as {@code align4j generate --help} lists them) and exits (0 done, 1 failed, 2 bad
 * command line), or</li>
 * <li>{@code package-reward <model-folder> --name N --version V [--aspect A] [--out file.jar]}: writes a bundle
 * that carries a trained reward model and registers it as a reward-model service when dropped into {@code deploy/}
 * (no framework is started), or</li>
 * <li>{@code shell}: the Gogo shell ({@code align4j:run}, {@code align4j:plugins}, {@code lb}, ...).</li>
 * </ul>
 * Ctrl-C (SIGINT/SIGTERM) stops the framework: a running stage writes a checkpoint first, and {@code run} still exits
 * with its status (3, stopped and resumable) rather than the signal's.
 * <p>
 * align4j's own bundles start at {@link #ALIGN4J_START_LEVEL}, after the services they need (SCR, ConfigAdmin,
 * FileInstall and the plugin bundles it installs, at level 1), so at shutdown they stop first: the running trainer
 * checkpoints and the pipeline reports while everything they use is still there.
 */
public final class Main {
    private static final String EXIT_CODE = "align4j.exit.code";
    /** Whether the interactive Gogo shell (the gogo.jline bundle) is started; not in headless runs. */
    private static final String SHELL = "align4j.shell";
    /** Whether the bundles of {@code server/} are installed too. */
    private static final String SERVER = "align4j.server";
    private static final String SHELL_BUNDLE = "org.apache.felix.gogo.jline";
    static final int ALIGN4J_START_LEVEL = 2;
    /** Separates the arguments of {@code generate} in the framework property {@code align4j.generate.args}. */
    static final String GENERATE_SEPARATOR = "\u001f";

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Path home = home();
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            usage();
            System.exit(args.length == 0 ? 2 : 0);
            return;
        }
        String command = args[0];
        Map<String, String> props = frameworkProperties(home);
        switch (command) {
            case "run":
            case "check":
                if (args.length < 2) {
                    System.err.println("align4j " + command + ": which pipeline file? e.g. align4j " + command
                            + " examples/pretrain.yaml");
                    System.exit(2);
                }
                Path file = Paths.get(args[1]).toAbsolutePath().normalize();
                if (!Files.isRegularFile(file)) {
                    System.err.println("align4j " + command + ": " + args[1] + ": no such file (working directory: "
                            + Paths.get("").toAbsolutePath() + ")");
                    System.exit(2);
                }
                props.put("align4j.run.file", file.toString());
                props.put("align4j.run.check", String.valueOf(command.equals("check")));
                props.put("align4j.run.overrides",
                        Arrays.stream(args, 2, args.length).collect(Collectors.joining(";")));
                props.put("gosh.args", "--nointeractive --noshutdown");
                props.put(SHELL, "false");
                break;
            case "generate":
                if (args.length < 2) {
                    System.err.println("align4j generate: which model folder and prompt? e.g. align4j generate"
                            + " runs/tiny/model \"Once upon a time\" --max-tokens 64 (align4j generate --help)");
                    System.exit(2);
                }
                // the arguments travel to the generate bundle as one framework property, U+001F between them
                props.put("align4j.generate.args", String.join(GENERATE_SEPARATOR,
                        Arrays.asList(args).subList(1, args.length)));
                props.put("gosh.args", "--nointeractive --noshutdown");
                props.put(SHELL, "false");
                break;
            case "best-of-n":
                if (args.length < 3 || Arrays.stream(args).noneMatch(x -> x.equals("--reward")
                        || x.startsWith("--reward="))) {
                    System.err.println("align4j best-of-n: which model folder, reward model and prompt? e.g. align4j"
                            + " best-of-n runs/rm/stage-1-sft/model --reward arithmetic-rm -n 8 \"Q: 12+7=?\\n\""
                            + " (align4j generate --help lists the options)");
                    System.exit(2);
                }
                props.put("align4j.generate.command", "best-of-n"); // its messages start "align4j best-of-n: "
                // generate with --reward, 8 samples unless -n says otherwise
                props.put("align4j.generate.args", String.join(GENERATE_SEPARATOR, "--samples", "8")
                        + GENERATE_SEPARATOR + String.join(GENERATE_SEPARATOR, Arrays.asList(args).subList(1,
                                args.length)));
                props.put("gosh.args", "--nointeractive --noshutdown");
                props.put(SHELL, "false");
                break;
            case "package-reward":
                System.exit(packageReward(home, Arrays.asList(args).subList(1, args.length)));
                return;
            case "shell":
                props.remove("gosh.args");
                props.put(SHELL, "true");
                break;
            case "server":
                String problem = server(props, Arrays.asList(args).subList(1, args.length));
                if (problem != null) {
                    System.err.println("align4j server: " + problem);
                    System.exit(2);
                }
                break;
            default:
                System.err.println("align4j: unknown command \"" + command + "\"");
                usage();
                System.exit(2);
                return;
        }
        System.exit(launch(home, props));
    }

    /**
     * {@code package-reward}: the reward bundle's packager, loaded from {@code bundle/align4j-reward-*.jar} (it needs
     * only the JDK), writes the jar. Exit 0 done, 1 failed, 2 bad command line.
     */
    static int packageReward(Path home, java.util.List<String> args) {
        String usage = "usage: align4j package-reward <model-folder> --name N --version V [--aspect A] [--out F.jar]";
        if (args.isEmpty() || args.get(0).startsWith("--")) {
            System.err.println("align4j package-reward: which model folder? " + usage);
            return 2;
        }
        Map<String, String> o = new HashMap<>(Map.of("--aspect", "overall"));
        for (int i = 1; i < args.size(); i++) {
            String key = args.get(i);
            boolean known = java.util.Set.of("--name", "--version", "--aspect", "--out").contains(key);
            if (!known || i + 1 >= args.size()) {
                System.err.println("align4j package-reward: " + (known ? key + " needs a value"
                        : "unknown option \"" + key + "\"") + "; " + usage);
                return 2;
            }
            o.put(key, args.get(++i));
        }
        for (String required : java.util.List.of("--name", "--version")) {
            if (!o.containsKey(required)) {
                System.err.println("align4j package-reward: " + required + " is required; " + usage);
                return 2;
            }
        }
        Path folder = Paths.get(args.get(0)).toAbsolutePath().normalize();
        Path out = Paths.get(o.getOrDefault("--out", o.get("--name") + "-" + o.get("--version") + ".jar"))
                .toAbsolutePath().normalize();
        try (java.util.stream.Stream<Path> jars = Files.list(home.resolve("bundle"))) {
            Path bundle = jars.filter(j -> j.getFileName().toString().startsWith("align4j-reward-")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no align4j-reward bundle in "
                            + home.resolve("bundle")));
            java.net.URL[] urls = {bundle.toUri().toURL()};
            try (java.net.URLClassLoader loader = new java.net.URLClassLoader(urls, Main.class.getClassLoader())) {
                java.lang.reflect.Method write = loader.loadClass("org.align4j.reward.RewardPackager")
                        .getMethod("write", Path.class, String.class, String.class, String.class, Path.class);
                write.invoke(null, folder, o.get("--name"), o.get("--version"), o.get("--aspect"), out);
            }
            System.out.println("wrote " + out + ": reward model \"" + o.get("--name") + "\" version "
                    + o.get("--version") + " (aspect " + o.get("--aspect") + "); drop it into deploy/ to register it");
            return 0;
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            System.err.println("align4j package-reward: " + (cause.getMessage() == null ? cause : cause.getMessage()));
            return cause instanceof IllegalArgumentException ? 2 : 1;
        } catch (Exception e) {
            System.err.println("align4j package-reward: " + (e.getMessage() == null ? e : e.getMessage()));
            return 1;
        }
    }

    private static void usage() {
        System.err.println("usage: align4j run <pipeline.yaml> [key=value ...]   run a pipeline headless\n"
                + "       align4j check <pipeline.yaml> [key=value ...] check it as run does first; run nothing\n"
                + "       align4j generate <model-folder> \"<prompt>\" [--max-tokens N] [--temperature X] [--top-k N]\n"
                + "                        [--top-p X] [--repetition-penalty X] [--samples N] [--seed N] [--stop S]\n"
                + "                                                     continue a prompt (align4j generate --help)\n"
                + "       align4j best-of-n <model-folder> --reward NAME [-n 8] \"<prompt>\"\n"
                + "                                                     sample N, print them best first by the reward"
                + " model\n"
                + "       align4j package-reward <model-folder> --name N --version V [--aspect A] [--out F.jar]\n"
                + "                                                     a reward-model bundle for deploy/\n"
                + "       align4j shell                                 the Gogo shell (align4j:run, align4j:plugins,"
                + " align4j:generate)\n"
                + "       align4j server [--port 8080] [--host 127.0.0.1] [--workspace DIR] [--shell]"
                + " [--shell-port N]\n"
                + "                                                     the web console at"
                + " http://127.0.0.1:8080/system/console/align4j");
    }

    /**
     * {@code server}: HTTP on 127.0.0.1:8080 (unless told otherwise), the Web Console with align4j's page and
     * sign-in, the bundles of {@code server/} besides those of {@code bundle/}, and the workspace the console starts
     * pipelines from (default: the working directory). The Web Console waits for align4j's sign-in provider, so its
     * built-in admin/admin never answers. Returns a problem with the arguments, or {@code null}.
     */
    static String server(Map<String, String> props, List<String> args) {
        props.putIfAbsent("org.osgi.service.http.port", "8080");
        props.putIfAbsent("org.apache.felix.http.host", "127.0.0.1");
        props.putIfAbsent("align4j.workspace", Paths.get("").toAbsolutePath().toString());
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String value = i + 1 < args.size() ? args.get(i + 1) : null;
            switch (a) {
                case "--port":
                    if (value == null || !value.matches("\\d{1,5}") || Integer.parseInt(value) > 65535) {
                        return "--port: expected a port number (0-65535; 0 picks a free one), got " + value;
                    }
                    props.put("org.osgi.service.http.port", value);
                    i++;
                    break;
                case "--host":
                    if (value == null || value.isBlank()) {
                        return "--host: which address to listen on? (127.0.0.1, the default, is this machine only;"
                                + " 0.0.0.0 is every interface)";
                    }
                    props.put("org.apache.felix.http.host", value);
                    i++;
                    break;
                case "--workspace":
                    if (value == null || !Files.isDirectory(Paths.get(value))) {
                        return "--workspace: " + value + " is not a folder";
                    }
                    props.put("align4j.workspace", Paths.get(value).toAbsolutePath().normalize().toString());
                    i++;
                    break;
                case "--shell":
                    props.remove("gosh.args");
                    props.put(SHELL, "true");
                    break;
                case "--shell-port":
                    if (value == null || !value.matches("\\d{1,5}") || Integer.parseInt(value) > 65535) {
                        return "--shell-port: expected a port number for the Gogo shell on 127.0.0.1, got " + value;
                    }
                    props.put("align4j.shell.port", value);
                    i++;
                    break;
                default:
                    return "unknown option " + a + " (--port N, --host ADDRESS, --workspace DIR, --shell,"
                            + " --shell-port N)";
            }
        }
        props.putIfAbsent(SHELL, "false");
        props.put(SERVER, "true");
        SPIFLY_LOG.setLevel(java.util.logging.Level.WARNING);
        // Jetty's and the Web Console's log (slf4j-simple, on standard error): warnings and errors unless -D says so
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        props.put("org.apache.felix.http.enable", "true");
        props.put("felix.webconsole.security.providers", "align4j");
        // the Web Console's own fallback account, never used while align4j's provider is there: not admin/admin
        props.put("felix.webconsole.username", "align4j-" + java.util.UUID.randomUUID());
        props.put("felix.webconsole.password", java.util.UUID.randomUUID().toString());
        return null;
    }

    static int startOrder(String jar) {
        return jar.startsWith("asm") || jar.contains("spifly") ? 0 : jar.startsWith("slf4j-api") ? 1
                : jar.startsWith("slf4j") ? 2 : 3;
    }

    /** SPI Fly logs each provider it wires at INFO through java.util.logging: kept, but only from WARNING up. */
    private static final java.util.logging.Logger SPIFLY_LOG = java.util.logging.Logger.getLogger(
            "org.apache.aries.spifly");

    /** The distribution's root: the parent of the {@code lib/} folder holding this jar, or {@code align4j.home}. */
    static Path home() throws Exception {
        String h = System.getProperty("align4j.home");
        if (h != null) {
            return Paths.get(h).toAbsolutePath().normalize();
        }
        Path jar = Paths.get(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getParent();
    }

    static Map<String, String> frameworkProperties(Path home) throws IOException {
        Map<String, String> p = new HashMap<>();
        Path conf = home.resolve("conf/framework.properties");
        if (Files.isRegularFile(conf)) {
            Properties f = new Properties();
            try (InputStream in = Files.newInputStream(conf)) {
                f.load(in);
            }
            f.stringPropertyNames().forEach(k -> p.put(k, f.getProperty(k).replace("${align4j.home}", home.toString())));
        }
        Path data = Paths.get(System.getProperty("align4j.data", home.resolve("data").toString()));
        // one cache per process, so two runs of one distribution never share (and clean) each other's
        p.putIfAbsent(Constants.FRAMEWORK_STORAGE, data.resolve("felix-cache-" + ProcessHandle.current().pid()).toString());
        p.putIfAbsent(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.putIfAbsent("felix.fileinstall.dir", home.resolve("deploy").toString());
        p.putIfAbsent(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, String.valueOf(ALIGN4J_START_LEVEL));
        p.put("align4j.home", home.toString());
        // System properties -Dx=y given to the JVM override conf/framework.properties for framework keys.
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("align4j.") || k.startsWith("felix.") || k.startsWith("org.osgi.")
                        || k.startsWith("gosh."))
                .forEach(k -> p.put(k, System.getProperty(k)));
        return p;
    }

    static int launch(Path home, Map<String, String> props) throws Exception {
        deleteStaleCaches(Paths.get(props.get(Constants.FRAMEWORK_STORAGE)).getParent());
        Framework framework = new Felix(new HashMap<>(props));
        framework.init();
        Path cache = Paths.get(props.get(Constants.FRAMEWORK_STORAGE));
        Thread hook = new Thread(() -> {
            stop(framework);
            String code = System.getProperty(EXIT_CODE);
            if (code != null) {
                // a signal ended the JVM, but the run reported how it ended: exit with that, not 128+signal
                deleteTree(cache);
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(Integer.parseInt(code));
            }
        }, "align4j-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<Bundle> installed = new ArrayList<>();
        List<Path> bundles = new ArrayList<>();
        try (Stream<Path> jars = Files.list(home.resolve("bundle"))) {
            jars.filter(j -> j.toString().endsWith(".jar")).sorted().forEach(bundles::add);
        }
        if (Boolean.parseBoolean(props.get(SERVER))) {
            try (Stream<Path> jars = Files.list(home.resolve("server"))) {
                // SPI Fly and the SLF4J provider first, so Jetty and the Web Console find a logger when they start
                jars.filter(j -> j.toString().endsWith(".jar")).sorted(java.util.Comparator.comparingInt(
                        (Path j) -> startOrder(j.getFileName().toString())).thenComparing(Path::toString))
                        .forEach(bundles::add);
            }
        }
        for (Path jar : bundles) {
            // in place, not copied into the cache: the TensorFlow bundle alone is 166 MB
            Bundle b = framework.getBundleContext().installBundle("reference:" + jar.toUri());
            if (b.getSymbolicName() != null && b.getSymbolicName().startsWith("org.align4j.")) {
                b.adapt(BundleStartLevel.class).setStartLevel(ALIGN4J_START_LEVEL);
            }
            installed.add(b);
            }
        framework.start();
        for (Bundle b : installed) {
            boolean shell = SHELL_BUNDLE.equals(b.getSymbolicName());
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null
                    && (!shell || Boolean.parseBoolean(props.get(SHELL)))) {
                try {
                    b.start();
                } catch (BundleException e) {
                    System.err.println("align4j: bundle " + b.getSymbolicName() + " " + b.getVersion()
                            + " did not start: " + e.getMessage());
                }
            }
        }
        framework.waitForStop(0);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // already running: nothing to remove
        }
        deleteTree(cache);
        String code = System.getProperty(EXIT_CODE);
        return code == null ? 0 : Integer.parseInt(code);
    }

    /** Removes the framework caches of processes that are gone (killed before they could remove their own). */
    static void deleteStaleCaches(Path data) throws IOException {
        if (data == null || !Files.isDirectory(data)) {
            return;
        }
        try (Stream<Path> caches = Files.list(data)) {
            for (Path c : caches.collect(Collectors.toList())) {
                String name = c.getFileName().toString();
                if (name.matches("felix-cache-\\d+")) {
                    long pid = Long.parseLong(name.substring("felix-cache-".length()));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        deleteTree(c);
                    }
                }
            }
        }
    }

    /** Removes the framework cache of this process (it holds another copy of the TensorFlow bundle). */
    /**
     * Deletes {@code dir} and everything in it. Synchronized: at a signal both the main thread and the shutdown hook
     * clean the cache, and two walks of one tree would see each other's deletions; a file that is gone already is
     * simply skipped.
     */
    static synchronized void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<Path>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file,
                        java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof java.nio.file.NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("align4j: could not delete " + dir + ": " + e.getMessage());
        }
    }

    private static void stop(Framework framework) {
        try {
            if (framework.getState() == Bundle.ACTIVE || framework.getState() == Bundle.STARTING) {
                framework.stop();
                framework.waitForStop(60_000);
            }
        } catch (Exception e) {
            System.err.println("align4j: stopping the framework: " + e);
        }
    }

}
