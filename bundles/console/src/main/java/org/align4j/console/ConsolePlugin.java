package org.align4j.console;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

import org.align4j.api.pipeline.SettingsException;
import org.align4j.api.reward.RewardModels;
import org.align4j.api.runs.RunInfo;
import org.align4j.api.runs.RunLogLine;
import org.align4j.api.runs.RunRequest;
import org.align4j.api.runs.RunSample;
import org.align4j.api.runs.RunService;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

/**
 * The align4j page of the Felix Web Console ({@code /system/console/align4j}), a plain servlet registered with the
 * console's plugin properties. The page itself is drawn in the browser by {@code console.js}; this servlet answers
 * its JSON requests through {@link RunService} (the only door to runs) and the registry:
 * <pre>
 * GET  state.json runs.json plugins.json rewards.json metrics.json?run=&amp;after= log.json?run=&amp;after=
 * GET  metrics.jsonl?run=          the run's metrics file, as a download
 * POST submit.json stop.json pause.json resume.json reward.json   (with the session's CSRF token)
 * </pre>
 * Pipelines started here come from the workspace (framework property {@value #WORKSPACE}, default the server's
 * working directory) or are uploaded into its {@code uploads/} folder, and are confined to it.
 */
@Component(service = Servlet.class, property = {
    "felix.webconsole.label=" + ConsolePlugin.LABEL,
    "felix.webconsole.title=align4j",
    "felix.webconsole.category=align4j"})
public final class ConsolePlugin extends HttpServlet {
    private static final long serialVersionUID = 1L;
    public static final String LABEL = "align4j";
    /** Framework property: the folder pipelines started from the console live in (and may only name paths in). */
    public static final String WORKSPACE = "align4j.workspace";
    static final String CSRF_HEADER = "X-Align4j-Csrf";
    static final long MAX_UPLOAD = 1 << 20;

    private final transient BundleContext context;
    private final transient RunService runs;
    private final transient Path workspace;
    private final transient ObjectMapper json = new ObjectMapper();
    private transient volatile RewardModels rewards;

    @Activate
    public ConsolePlugin(BundleContext context, @Reference(name = "runs") RunService runs,
            @Reference(name = "security") ConsoleSecurity security) {
        this.context = context;
        this.runs = runs;
        // security is not called here: the reference only keeps this page away while align4j's sign-in is absent
        String ws = context.getProperty(WORKSPACE);
        this.workspace = (ws == null || ws.isBlank() ? Path.of("") : Path.of(ws)).toAbsolutePath().normalize();
    }

    @Reference(name = "rewards", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setRewards(RewardModels r) {
        rewards = r;
    }

    void unsetRewards(RewardModels r) {
        if (rewards == r) {
            rewards = null;
        }
    }

    /** What follows {@code /align4j} in the request's path ({@code ""} for the page itself). */
    static String route(HttpServletRequest req) {
        String uri = req.getRequestURI();
        int at = uri.indexOf("/" + LABEL);
        String rest = at < 0 ? "" : uri.substring(at + LABEL.length() + 1);
        return rest.equals("/") ? "" : rest;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse res) throws ServletException, IOException {
        String route = route(req);
        res.setHeader("Cache-Control", "no-store");
        try {
            switch (route) {
                case "":
                    page(req, res);
                    return;
                case "/console.js":
                    resource(res, "console/console.js", "text/javascript");
                    return;
                case "/console.css":
                    resource(res, "console/console.css", "text/css");
                    return;
                case "/state.json":
                    send(res, 200, state(req));
                    return;
                case "/runs.json":
                    send(res, 200, Map.of("runs", runs.runs().stream().map(ConsolePlugin::run).toList()));
                    return;
                case "/plugins.json":
                    send(res, 200, Map.of("plugins", runs.plugins()));
                    return;
                case "/rewards.json":
                    send(res, 200, Map.of("models", PluginCatalog.rewards(context, rewards)));
                    return;
                case "/metrics.json":
                    metrics(req, res);
                    return;
                case "/log.json":
                    log(req, res);
                    return;
                case "/metrics.jsonl":
                    download(req, res);
                    return;
                case "/submit.json":
                case "/stop.json":
                case "/pause.json":
                case "/resume.json":
                case "/reward.json":
                    res.setHeader("Allow", "POST");
                    send(res, 405, error(route.substring(1) + " changes something: it takes POST with the CSRF"
                            + " token, never GET"));
                    return;
                default:
                    send(res, 404, error("no such align4j console address: " + route));
            }
        } catch (NoSuchElementException e) {
            send(res, 404, error(e.getMessage()));
        } catch (IllegalArgumentException | IllegalStateException e) {
            send(res, 400, error(e.getMessage()));
        }
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse res) throws ServletException, IOException {
        String route = route(req);
        res.setHeader("Cache-Control", "no-store");
        Sessions.Session session = ConsoleSecurity.session(req).orElse(null);
        boolean multipart = req.getContentType() != null && req.getContentType().toLowerCase(Locale.ROOT)
                .startsWith("multipart/");
        String token = req.getHeader(CSRF_HEADER);
        if (token == null && !multipart) {
            token = req.getParameter("csrf");
        }
        if (session == null || token == null || !java.security.MessageDigest.isEqual(
                token.getBytes(StandardCharsets.UTF_8), session.csrf().getBytes(StandardCharsets.UTF_8))) {
            send(res, 403, error("missing or wrong CSRF token: send the token of your session (state.json's csrf) in"
                    + " the " + CSRF_HEADER + " header"));
            return;
        }
        try {
            switch (route) {
                case "/submit.json":
                    submit(req, res, multipart);
                    return;
                case "/stop.json":
                    send(res, 200, Map.of("run", run(runs.stop(required(req, "run"), "stopped from the console"))));
                    return;
                case "/pause.json":
                    send(res, 200, Map.of("run", run(runs.pause(required(req, "run")))));
                    return;
                case "/resume.json":
                    send(res, 200, Map.of("run", run(runs.resume(required(req, "run")))));
                    return;
                case "/reward.json":
                    String name = required(req, "name");
                    String version = param(req, "version");
                    RunInfo r = runs.retargetReward(required(req, "run"), name, version);
                    send(res, 200, Map.of("run", run(r), "message", "stage " + r.stage() + " switches to reward model "
                            + name + (version.isEmpty() ? " (newest version)" : " " + version)
                            + " at its next rollout"));
                    return;
                default:
                    send(res, 404, error("no such align4j console action: " + route));
            }
        } catch (NoSuchElementException e) {
            send(res, 404, error(e.getMessage()));
        } catch (SettingsException e) {
            Map<String, Object> body = error(e.getMessage());
            body.put("details", List.of(e.getMessage()));
            body.put("key", e.key());
            send(res, 400, body);
        } catch (IllegalArgumentException | IllegalStateException e) {
            send(res, 400, error(e.getMessage()));
        }
    }

    private void page(HttpServletRequest req, HttpServletResponse res) throws IOException {
        Object pluginRoot = req.getAttribute("felix.webconsole.pluginRoot"); // set by the Web Console
        String root = pluginRoot != null ? String.valueOf(pluginRoot) : "/system/console/" + LABEL;
        String csrf = ConsoleSecurity.session(req).map(Sessions.Session::csrf).orElse("");
        res.setContentType("text/html;charset=utf-8");
        res.getWriter().println("<div id=\"a4j\" data-root=\"" + attr(root) + "\" data-csrf=\"" + attr(csrf)
                + "\"></div>\n<link rel=\"stylesheet\" href=\"" + attr(root) + "/console.css\">\n<script src=\""
                + attr(root) + "/console.js\"></script>");
    }

    private Map<String, Object> state(HttpServletRequest req) {
        Map<String, Object> m = new LinkedHashMap<>();
        Sessions.Session s = ConsoleSecurity.session(req).orElse(null);
        m.put("user", s == null ? "" : s.user());
        m.put("csrf", s == null ? "" : s.csrf());
        m.put("workspace", workspace.toString());
        m.put("pipelines", pipelines());
        Object max = null;
        org.osgi.framework.ServiceReference<RunService> ref = context.getServiceReference(RunService.class);
        if (ref != null) {
            max = ref.getProperty("align4j.max.concurrent.runs");
        }
        m.put("maxConcurrent", max == null ? 1 : max);
        return m;
    }

    /** Pipeline files in the workspace (three folders deep, not in run folders or build output). */
    List<String> pipelines() {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(workspace)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(workspace, 3)) {
            files.filter(f -> {
                String n = f.getFileName().toString();
                return (n.endsWith(".yaml") || n.endsWith(".yml")) && Files.isRegularFile(f);
            }).map(workspace::relativize).filter(r -> {
                String first = r.getName(0).toString();
                return !first.equals("runs") && !first.equals("target") && !first.startsWith(".")
                        && !r.toString().contains("/target/") && !first.equals("node_modules");
            }).map(p -> p.toString().replace('\\', '/')).sorted().limit(500).forEach(out::add);
        } catch (IOException | java.io.UncheckedIOException e) {
            // an unreadable folder: list what was found
        }
        return out;
    }

    private void submit(HttpServletRequest req, HttpServletResponse res, boolean multipart)
            throws IOException, ServletException {
        Path file;
        String overrides;
        if (multipart) {
            Part upload = req.getPart("upload");
            overrides = partText(req.getPart("overrides"));
            if (upload != null && upload.getSize() > 0) {
                file = saveUpload(upload);
            } else {
                file = Path.of(partText(req.getPart("pipeline")).trim());
            }
        } else {
            file = Path.of(required(req, "pipeline"));
            overrides = param(req, "overrides");
        }
        Map<String, String> o = new LinkedHashMap<>();
        int line = 0;
        for (String l : overrides.split("\\R")) {
            line++;
            String t = l.trim();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int eq = t.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("overrides, line " + line + ": \"" + t + "\" is not key=value"
                        + " (e.g. stages.0.steps=600)");
            }
            o.put(t.substring(0, eq).trim(), t.substring(eq + 1).trim());
        }
        RunInfo r = runs.submit(RunRequest.of(file, o).confinedTo(workspace).from("console"));
        send(res, 200, Map.of("run", run(r)));
    }

    private Path saveUpload(Part upload) throws IOException {
        if (upload.getSize() > MAX_UPLOAD) {
            throw new IllegalArgumentException("the uploaded file has " + upload.getSize() + " bytes; pipeline files"
                    + " may have at most " + MAX_UPLOAD + " (1 MiB)");
        }
        String submitted = upload.getSubmittedFileName() == null ? "pipeline.yaml" : upload.getSubmittedFileName();
        String name = Path.of(submitted.replace('\\', '/')).getFileName().toString().replaceAll("[^A-Za-z0-9._-]",
                "_");
        if (!(name.endsWith(".yaml") || name.endsWith(".yml")) || name.startsWith(".")) {
            throw new IllegalArgumentException("upload " + submitted + ": a pipeline file ends in .yaml or .yml");
        }
        Path dir = workspace.resolve("uploads");
        Files.createDirectories(dir);
        String stem = name.substring(0, name.lastIndexOf('.'));
        String ext = name.substring(name.lastIndexOf('.'));
        Path target = dir.resolve(name);
        for (int n = 2; Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS); n++) {
            target = dir.resolve(stem + "-" + n + ext);
        }
        Path tmp = Files.createTempFile(dir, ".upload", ".tmp");
        try (InputStream in = upload.getInputStream()) {
            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return workspace.relativize(target);
    }

    private static String partText(Part p) throws IOException {
        if (p == null) {
            return "";
        }
        try (InputStream in = p.getInputStream()) {
            return new String(in.readNBytes((int) MAX_UPLOAD), StandardCharsets.UTF_8);
        }
    }

    private void metrics(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String id = required(req, "run");
        long after = after(req);
        List<Map<String, Object>> points = new ArrayList<>();
        long next = after;
        for (RunSample s : runs.metrics(id, after)) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("seq", s.seq());
            p.put("time", s.timeMillis());
            p.put("stage", s.stage());
            p.put("step", s.step());
            p.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
            Map<String, Object> finite = new LinkedHashMap<>();
            s.metrics().forEach((k, v) -> finite.put(k, Double.isFinite(v) ? v : String.valueOf(v)));
            p.put("metrics", finite);
            points.add(p);
            next = Math.max(next, s.seq());
        }
        send(res, 200, Map.of("run", id, "next", next, "points", points));
    }

    private void log(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String id = required(req, "run");
        long after = after(req);
        List<Map<String, Object>> lines = new ArrayList<>();
        long next = after;
        for (RunLogLine l : runs.log(id, after)) {
            lines.add(Map.of("seq", l.seq(), "time", l.timeMillis(), "text", l.text()));
            next = Math.max(next, l.seq());
        }
        send(res, 200, Map.of("run", id, "next", next, "lines", lines));
    }

    private void download(HttpServletRequest req, HttpServletResponse res) throws IOException {
        RunInfo r = runs.run(required(req, "run")).orElseThrow(() -> new NoSuchElementException("no run "
                + req.getParameter("run")));
        Path f = r.workDir().resolve("metrics.jsonl");
        if (!Files.isRegularFile(f)) {
            send(res, 404, error(f + " does not exist (yet): the run has written no metrics"));
            return;
        }
        res.setContentType("application/x-ndjson");
        res.setHeader("Content-Disposition", "attachment; filename=\"" + r.id().replaceAll("[^A-Za-z0-9._~-]", "_")
                + "-metrics.jsonl\"");
        res.setContentLengthLong(Files.size(f));
        Files.copy(f, res.getOutputStream());
    }

    private void resource(HttpServletResponse res, String name, String type) throws IOException {
        try (InputStream in = ConsolePlugin.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                res.sendError(404);
                return;
            }
            res.setContentType(type + ";charset=utf-8");
            in.transferTo(res.getOutputStream());
        }
    }

    static Map<String, Object> run(RunInfo r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("name", r.name());
        m.put("file", r.file() == null ? "" : r.file().toString());
        m.put("state", r.state().name().toLowerCase(Locale.ROOT));
        m.put("stage", r.stage());
        m.put("step", r.step());
        m.put("totalSteps", r.totalSteps());
        m.put("etaSeconds", r.etaSeconds());
        m.put("submitted", r.submitted());
        m.put("started", r.started());
        m.put("ended", r.ended());
        m.put("message", r.message());
        m.put("workDir", r.workDir() == null ? "" : r.workDir().toString());
        m.put("rewardModel", r.rewardModel());
        m.put("rewardStage", r.rewardStage());
        return m;
    }

    private static long after(HttpServletRequest req) {
        String a = req.getParameter("after");
        try {
            return a == null || a.isBlank() ? 0 : Long.parseLong(a.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("after: expected a whole number (the previous answer's next), got \""
                    + a + "\"");
        }
    }

    private static String required(HttpServletRequest req, String name) {
        String v = param(req, name);
        if (v.isEmpty()) {
            throw new IllegalArgumentException(name + " is missing");
        }
        return v;
    }

    private static String param(HttpServletRequest req, String name) {
        String v = req.getParameter(name);
        return v == null ? "" : v.trim();
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message == null ? "unknown error" : message);
        return m;
    }

    private void send(HttpServletResponse res, int status, Object body) throws IOException {
        res.setStatus(status);
        res.setContentType("application/json;charset=utf-8");
        json.writeValue(res.getOutputStream(), body);
    }

    static String attr(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
