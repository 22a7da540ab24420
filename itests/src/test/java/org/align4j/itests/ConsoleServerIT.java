package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The server a user deploys, end to end: {@code bin/align4j server} of the assembled distribution on a free port of
 * 127.0.0.1, with a fresh account file (so it generates a password and prints it once), its own workspace and its
 * own deploy/ folder. Over HTTP: no default password works, wrong or missing credentials are refused, a state-changing
 * GET or a POST without the CSRF token is refused, paths that escape the workspace ({@code ../}, absolute, a symbolic
 * link) are refused naming the key and the path, and an alias bomb is refused at once. In real headless Chromium
 * (Debian's chromium and chromium-driver, driven by Selenium): sign in, start the example pipeline, watch its loss
 * chart grow while it runs, stop it, see a third-party kernel bundle dropped into deploy/ appear among the plugins
 * and train a run with it, switch the reward model of a running PPO job to an ensemble configured through deploy/,
 * and find no error in the page's console.
 */
public class ConsoleServerIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static Path workspace;
    private static Path deploy;
    private static Path log;
    private static Process server;
    private static String base;
    private static String password;
    private static int shellPort;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeClass
    public static void startServer() throws Exception {
        dir = Align4jOptions.scratch("console-server");
        workspace = Files.createDirectories(dir.resolve("workspace"));
        deploy = Files.createDirectories(dir.resolve("deploy"));
        Files.createDirectories(workspace.resolve("examples"));
        // the example a newcomer starts, shortened; and a tiny PPO job that scores with the task's verifier
        Path example = Align4jOptions.distribution().resolve("examples/pretrain.yaml");
        Files.copy(example, workspace.resolve("examples/pretrain.yaml"));
        Files.writeString(workspace.resolve("ppo.yaml"), Align4jOptions.tinyPretrainThen(
                "run: { name: console-ppo, workdir: runs/console-ppo, seed: 5 }", 32,
                Align4jOptions.tinyPpoStage("arithmetic-verifier")));
        int port = freePort();
        shellPort = freePort();
        base = "http://127.0.0.1:" + port + "/system/console";
        log = dir.resolve("server.log");
        ProcessBuilder pb = new ProcessBuilder(Align4jOptions.distribution().resolve("bin/align4j").toString(),
                "server", "--port", String.valueOf(port), "--workspace", workspace.toString(), "--shell-port",
                String.valueOf(shellPort));
        pb.environment().put("ALIGN4J_OPTS", "-Xmx3g -Dalign4j.tensorflow.intraOpThreads=1"
                + " -Dalign4j.tensorflow.interOpThreads=1 -Dfelix.fileinstall.dir=" + deploy
                + " -Dalign4j.console.credentials=" + dir.resolve("credentials.properties")
                + " -Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir"));
        pb.environment().put("ALIGN4J_DATA", dir.resolve("data").toString());
        pb.environment().remove("ALIGN4J_CONSOLE_PASSWORD");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        server = pb.start();
        Pattern printed = Pattern.compile("user admin, password (\\S+)");
        await(() -> {
            Matcher m = printed.matcher(text(log));
            if (m.find()) {
                password = m.group(1);
            }
            return password != null && status(get("/align4j/state.json", null)) == 401;
        }, 120, "the server did not print its generated password and answer");
        String stored = Files.readString(dir.resolve("credentials.properties"));
        assertFalse("the password is stored hashed, never as written", stored.contains(password));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @AfterClass
    public static void stopServer() throws Exception {
        if (server != null) {
            server.destroy(); // SIGTERM: the framework stops, runs checkpoint and stop
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    @Test
    public void theServerRefusesWhatItMustAndConfinesPaths() throws Exception {
        // no default password, no missing or wrong one
        for (String[] c : new String[][] {{"admin", "admin"}, {"admin", ""}, {"admin", password + "x"}}) {
            assertEquals(c[0] + "/" + c[1], 401, status(get("/align4j/state.json", basic(c[0], c[1]))));
        }
        assertEquals(401, status(get("/bundles", null)));
        assertEquals(401, status(get("/align4j/runs.json", Map.of("Cookie", "align4j_session=forged"))));
        HttpResponse<String> wrong = post("/align4j-login", form(Map.of("j_username", "admin", "j_password",
                "admin")), Map.of());
        assertEquals(401, wrong.statusCode());
        assertTrue(wrong.body(), wrong.body().contains("wrong user name or password"));

        Map<String, String> auth = basic("admin", password);
        JsonNode state = JSON.readTree(get("/align4j/state.json", auth).body());
        String csrf = state.path("csrf").asText();
        assertFalse(csrf.isEmpty());
        assertEquals(workspace.toString(), state.path("workspace").asText());
        assertTrue(state.toString(), state.path("pipelines").toString().contains("examples/pretrain.yaml"));

        // state changes: never by GET, never without the token, never from another site
        HttpResponse<String> byGet = get("/align4j/submit.json?pipeline=examples/pretrain.yaml", auth);
        assertEquals(405, byGet.statusCode());
        String submit = form(Map.of("pipeline", "examples/pretrain.yaml"));
        assertEquals(403, post("/align4j/submit.json", submit, auth).statusCode());
        assertEquals(403, post("/align4j/submit.json", submit, with(auth, "X-Align4j-Csrf", "forged"))
                .statusCode());
        assertEquals(403, post("/align4j/submit.json", submit, with(with(auth, "X-Align4j-Csrf", csrf), "Origin",
                "http://evil.example")).statusCode());
        Map<String, String> ok = with(auth, "X-Align4j-Csrf", csrf);

        // paths that leave the workspace, each refused naming its key and the path
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createSymbolicLink(workspace.resolve("escape"), outside);
        String[][] escapes = {{"run.workdir", "../elsewhere"}, {"run.workdir", outside.toString()},
            {"run.workdir", "escape/run"}, {"data.train", "../../../etc/passwd"}};
        for (String[] e : escapes) {
            HttpResponse<String> r = post("/align4j/submit.json", form(Map.of("pipeline", "examples/pretrain.yaml",
                    "overrides", e[0] + "=" + e[1])), ok);
            assertEquals(r.body(), 400, r.statusCode());
            JsonNode body = JSON.readTree(r.body());
            assertEquals(r.body(), e[0], body.path("key").asText());
            assertTrue(r.body(), body.path("error").asText().contains(e[1])
                    && body.path("error").asText().contains("outside the workspace"));
        }
        HttpResponse<String> file = post("/align4j/submit.json", form(Map.of("pipeline", "../outside.yaml")), ok);
        assertEquals(file.body(), 400, file.statusCode());
        assertTrue(file.body(), file.body().contains("outside the workspace"));

        // a YAML alias bomb, uploaded: refused at once, the server still answers
        StringBuilder bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) {
                bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            bomb.append("]\n");
        }
        long t0 = System.nanoTime();
        HttpResponse<String> refused = upload(ok, "bomb.yaml", bomb.toString());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(refused.body(), 400, refused.statusCode());
        assertTrue(refused.body(), refused.body().contains("alias"));
        assertTrue("refused in " + ms + " ms", ms < 5_000);
        assertEquals(200, status(get("/align4j/runs.json", auth)));
    }

    /** {@code --shell-port}: the Gogo shell on 127.0.0.1, one command a line, tables as the shell prints them. */
    @Test
    public void theShellPortRunsCommandsOnLoopbackOnly() throws Exception {
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), shellPort)) {
            s.setSoTimeout(30_000);
            java.io.PrintStream out = new java.io.PrintStream(s.getOutputStream(), true, StandardCharsets.UTF_8);
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    s.getInputStream(), StandardCharsets.UTF_8));
            out.println("align4j:plugins");
            out.println("align4j:pause nothing-like-this");
            out.println("exit");
            StringBuilder all = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                all.append(line).append('\n');
            }
            String text = all.toString();
            assertTrue(text, text.contains("attention kernel") && text.contains("mha-fast"));
            assertTrue(text, text.contains("trainer") && text.contains("pretrain"));
            assertTrue(text, text.contains("align4j:pause: no run nothing-like-this"));
        }
        assertTrue("the server logs where the shell listens", text(log).contains("the Gogo shell listens on"
                + " 127.0.0.1:" + shellPort));
        for (java.net.InetAddress a : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())
                .stream().flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
                .filter(a -> !a.isLoopbackAddress() && a instanceof java.net.Inet4Address).toList()) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(a, shellPort), 2000);
                fail("the shell port answers on " + a + ", not only on 127.0.0.1");
            } catch (IOException refused) {
                // as it should
            }
        }
    }

    @Test
    public void anOperatorRunsWatchesStopsAndSwitchesRewardModelsInABrowser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(System.getProperty("align4j.chromium", "/usr/bin/chromium"));
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"), "--window-size=1400,1800");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, java.util.logging.Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(
                Path.of(System.getProperty("align4j.chromedriver", "/usr/bin/chromedriver")).toFile())
                .usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        List<String> consoleErrors = new ArrayList<>();
        try {
            browser.manage().timeouts().implicitlyWait(Duration.ZERO);
            browser.get(base + "/align4j");
            browser.findElement(By.id("j_username")).sendKeys("admin");
            browser.findElement(By.id("j_password")).sendKeys("not-" + password);
            browser.findElement(By.id("login-submit")).click();
            assertTrue(find(browser, By.id("login-error")).getText().contains("wrong user name or password"));
            browser.findElement(By.id("j_username")).sendKeys("admin");
            browser.findElement(By.id("j_password")).sendKeys(password);
            browser.findElement(By.id("login-submit")).click();

            // start the example pipeline, shortened, from the workspace
            new Select(find(browser, By.id("a4j-start-pipeline"))).selectByValue("examples/pretrain.yaml");
            find(browser, By.id("a4j-start-overrides")).sendKeys("stages.0.steps=100000\nstages.0.log_every=1");
            find(browser, By.id("a4j-start-submit")).click();
            WebElement row = find(browser, By.cssSelector("#a4j-runs tr[data-run='pretrain-arithmetic']"));
            assertNotNull(row);
            awaitIn(browser, "#a4j-runs tr[data-run='pretrain-arithmetic'][data-state='running']");
            // the loss chart appears and grows while the run goes
            int first = points(browser, "loss", 1);
            int later = points(browser, "loss", first + 5);
            assertTrue(first + " then " + later, later > first);
            assertTrue(find(browser, By.id("a4j-log")).getText().contains("pretrain"));
            assertTrue(find(browser, By.id("a4j-download")).getAttribute("href").contains("metrics.jsonl"));
            // stop it
            find(browser, By.cssSelector("#a4j-runs tr[data-run='pretrain-arithmetic'] button[data-action='stop']"))
                    .click();
            awaitIn(browser, "#a4j-runs tr[data-run='pretrain-arithmetic'][data-state='stopped']");

            // a third-party kernel dropped into deploy/ shows among the plugins without a reload
            ProbeBundles.build(deploy.resolve("probe-kernel.jar"), "org.example.console.kernel");
            awaitText(browser, By.id("a4j-plugins"), ProbeAttention.NAME, 60);
            // ... and is selectable at once: a run names it as its kernel
            new Select(find(browser, By.id("a4j-start-pipeline"))).selectByValue("examples/pretrain.yaml");
            find(browser, By.id("a4j-start-overrides")).clear();
            find(browser, By.id("a4j-start-overrides")).sendKeys("model.attention=" + ProbeAttention.NAME
                    + "\nstages.0.steps=3\nrun.name=probe-run\nrun.workdir=runs/probe-run");
            find(browser, By.id("a4j-start-submit")).click();
            awaitIn(browser, "#a4j-runs tr[data-run='probe-run'][data-state='completed']");
            assertTrue(Files.readString(workspace.resolve("runs/probe-run/stage-0-pretrain/model/config.json"))
                    .contains(ProbeAttention.NAME));

            // an ensemble configured through deploy/, then a PPO job switched to it while it runs
            Files.writeString(deploy.resolve("org.align4j.reward.ensemble-console.cfg"),
                    "name=console-ensemble\nmembers=(align4j.aspect=correctness)\nweights=arithmetic-verifier=2\n");
            awaitText(browser, By.id("a4j-rewards"), "console-ensemble", 60);
            awaitText(browser, By.id("a4j-rewards"), "arithmetic-verifier", 5);
            new Select(find(browser, By.id("a4j-start-pipeline"))).selectByValue("ppo.yaml");
            find(browser, By.id("a4j-start-overrides")).clear();
            find(browser, By.id("a4j-start-submit")).click();
            awaitIn(browser, "#a4j-runs tr[data-run='console-ppo'][data-state='running']");
            find(browser, By.cssSelector("#a4j-runs tr[data-run='console-ppo']")).click();
            awaitText(browser, By.id("a4j-reward-current"), "arithmetic-verifier", 240);
            new Select(find(browser, By.id("a4j-reward-name"))).selectByValue("console-ensemble");
            find(browser, By.id("a4j-reward-submit")).click();
            awaitText(browser, By.id("a4j-reward-message"), "console-ensemble", 20);
            awaitText(browser, By.id("a4j-reward-current"), "console-ensemble", 240);
            find(browser, By.cssSelector("#a4j-runs tr[data-run='console-ppo'] button[data-action='stop']")).click();
            awaitIn(browser, "#a4j-runs tr[data-run='console-ppo'][data-state='stopped']");

            for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
                // the one refusal this test causes on purpose (the wrong password's 401) is a network entry
                if (e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()
                        && !(e.getMessage().contains("401") && e.getMessage().contains("Failed to load resource"))) {
                    consoleErrors.add(e.getMessage());
                }
            }
            assertEquals("errors in the page's console", List.of(), consoleErrors);
            java.io.File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(
                    org.openqa.selenium.OutputType.FILE);
            Files.copy(shot.toPath(), dir.resolve("console.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\n--- server log tail ---\n" + tail(log, 60), e);
        } finally {
            browser.quit();
        }
    }

    /** The number of points the chart of {@code metric} draws, once it is at least {@code atLeast}. */
    private static int points(WebDriver browser, String metric, int atLeast) throws InterruptedException {
        By line = By.cssSelector("#a4j-charts svg[data-metric='" + metric + "'] .line");
        int[] n = {0};
        await(() -> {
            List<WebElement> l = browser.findElements(line);
            n[0] = l.isEmpty() ? 0 : Integer.parseInt(l.get(0).getAttribute("data-points"));
            return n[0] >= atLeast;
        }, 120, "the " + metric + " chart did not reach " + atLeast + " points");
        return n[0];
    }

    private static WebElement find(WebDriver browser, By by) throws InterruptedException {
        await(() -> !browser.findElements(by).isEmpty(), 30, "no " + by + " on the page");
        return browser.findElement(by);
    }

    private static void awaitIn(WebDriver browser, String css) throws InterruptedException {
        await(() -> !browser.findElements(By.cssSelector(css)).isEmpty(), 180, "no " + css + " on the page");
    }

    private static void awaitText(WebDriver browser, By by, String text, int seconds) throws InterruptedException {
        await(() -> browser.findElements(by).stream().anyMatch(e -> e.getText().contains(text)), seconds,
                by + " never showed " + text);
    }

    private static void await(BooleanSupplier until, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (until.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // a stale element or a refused connection while the server starts
            }
            if (server != null && !server.isAlive()) {
                fail(what + ": the server exited (" + server.exitValue() + ")\n" + tail(log, 60));
            }
            Thread.sleep(250);
        }
        fail(what + " within " + seconds + " s\n--- server log tail ---\n" + tail(log, 60));
    }

    private static HttpResponse<String> get(String path, Map<String, String> headers) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), headers);
    }

    private static HttpResponse<String> post(String path, String form, Map<String, String> headers) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type",
                "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)), headers);
    }

    private static HttpResponse<String> upload(Map<String, String> headers, String name, String content) {
        String boundary = "----align4j" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"" + name
                + "\"\r\nContent-Type: application/x-yaml\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
        return send(HttpRequest.newBuilder(URI.create(base + "/align4j/submit.json")).header("Content-Type",
                "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofString(body)), headers);
    }

    private static HttpResponse<String> send(HttpRequest.Builder b, Map<String, String> headers) {
        if (headers != null) {
            headers.forEach(b::header);
        }
        try {
            return HTTP.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int status(HttpResponse<String> r) {
        return r.statusCode();
    }

    private static Map<String, String> basic(String user, String pw) {
        return Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + pw)
                .getBytes(StandardCharsets.UTF_8)));
    }

    private static Map<String, String> with(Map<String, String> m, String k, String v) {
        Map<String, String> out = new java.util.HashMap<>(m);
        out.put(k, v);
        return out;
    }

    private static String form(Map<String, String> fields) {
        StringBuilder b = new StringBuilder();
        fields.forEach((k, v) -> b.append(b.length() == 0 ? "" : "&").append(URLEncoder.encode(k,
                StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return b.toString();
    }

    private static String text(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(Path f, int lines) {
        List<String> all = List.of(text(f).split("\n"));
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
