package org.align4j.console;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

import org.apache.felix.webconsole.spi.SecurityProvider;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Who may use the Web Console: one account whose password is set at install or generated at first start (printed
 * once, stored only hashed; see {@link Credentials}). A browser signs in on a form and gets a session cookie
 * ({@code HttpOnly}, {@code SameSite=Strict}); scripts may use HTTP Basic. Every request that changes state must come
 * from the console's own origin ({@code Origin}/{@code Referer} checked), and align4j's own actions also carry the
 * session's CSRF token ({@link ConsolePlugin}).
 *
 * <p>The distribution sets the framework property {@code felix.webconsole.security.providers=align4j}, so the Web
 * Console serves nothing until this provider is registered: its built-in admin/admin never answers.
 */
@Component(service = {SecurityProvider.class, ConsoleSecurity.class}, configurationPid = ConsoleSecurity.PID,
        property = SecurityProvider.PROPERTY_ID + "=" + ConsoleSecurity.ID)
@Designate(ocd = ConsoleSecurity.Config.class)
public final class ConsoleSecurity implements SecurityProvider {
    public static final String PID = "org.align4j.console";
    /** The provider id the Web Console is told to wait for. */
    public static final String ID = "align4j";
    /** Framework property: the password to store at first start (instead of a generated one). */
    public static final String PASSWORD_PROPERTY = "align4j.console.password";
    /** Framework property: where the account file is (unless configured); see {@link Config#credentials_file}. */
    public static final String CREDENTIALS_PROPERTY = "align4j.console.credentials";
    public static final String COOKIE = "align4j_session";
    static final String LOGIN = "/align4j-login";
    static final String LOGOUT = "/align4j-logout";

    @ObjectClassDefinition(name = "align4j web console sign-in",
            description = "The console account and its sessions.")
    public @interface Config {
        @AttributeDefinition(description = "The file holding the user and the hashed password (default:"
                + " <align4j.home>/conf/console-credentials.properties)")
        String credentials_file() default "";

        @AttributeDefinition(description = "The user name stored when the file is created")
        String user() default "admin";

        @AttributeDefinition(description = "Minutes a signed-in browser stays signed in without a request")
        int session_idle_minutes() default 720;
    }

    private final Credentials credentials;
    private final Sessions sessions;
    private final Path file;
    /** The Web Console's root path, {@code /system/console} unless {@code felix.webconsole.manager.root} says. */
    private final String root;

    @Activate
    public ConsoleSecurity(BundleContext context, Config config) throws IOException {
        this.file = credentialsFile(context, config);
        String r = context.getProperty("felix.webconsole.manager.root");
        this.root = r == null || r.isBlank() ? "/system/console" : r.endsWith("/") ? r.substring(0, r.length() - 1) : r;
        String install = context.getProperty(PASSWORD_PROPERTY);
        if (install == null || install.isBlank()) {
            install = System.getenv("ALIGN4J_CONSOLE_PASSWORD");
        }
        Credentials.Loaded loaded = Credentials.ensure(file, config.user(), install);
        this.credentials = loaded.credentials();
        this.sessions = new Sessions(Math.max(1, config.session_idle_minutes()) * 60_000L, System::currentTimeMillis);
        String url = consoleUrl(context);
        if (loaded.generatedPassword() != null) {
            System.out.println("align4j console: " + url + "\n  user " + credentials.user() + ", password "
                    + loaded.generatedPassword() + "\n  (generated now and shown only this once; stored hashed in "
                    + file + ";\n   delete that file and restart for a new one, or set " + PASSWORD_PROPERTY
                    + " / ALIGN4J_CONSOLE_PASSWORD before the first start)");
        } else if (loaded.created()) {
            System.out.println("align4j console: " + url + " (user " + credentials.user()
                    + ", the password given at install; stored hashed in " + file + ")");
        } else {
            System.out.println("align4j console: " + url + " (user " + credentials.user() + "; credentials in " + file
                    + ")");
        }
    }

    static Path credentialsFile(BundleContext context, Config config) {
        if (!config.credentials_file().isBlank()) {
            return Path.of(config.credentials_file()).toAbsolutePath();
        }
        String given = context.getProperty(CREDENTIALS_PROPERTY);
        if (given != null && !given.isBlank()) {
            return Path.of(given).toAbsolutePath();
        }
        String home = context.getProperty("align4j.home");
        Path base = home == null ? Path.of("").toAbsolutePath() : Path.of(home);
        return base.resolve("conf").resolve("console-credentials.properties");
    }

    static String consoleUrl(BundleContext context) {
        String host = context.getProperty("org.apache.felix.http.host");
        String port = context.getProperty("org.osgi.service.http.port");
        return "http://" + (host == null || host.isBlank() ? "127.0.0.1" : host) + ":" + (port == null ? "8080"
                : port) + "/system/console/align4j";
    }

    @Override
    public Object authenticate(HttpServletRequest req, HttpServletResponse res) {
        try {
            String uri = req.getRequestURI();
            String path = uri.startsWith(root) ? uri.substring(root.length()) : uri;
            if (path.equals(LOGIN) && "POST".equals(req.getMethod())) {
                signIn(req, res);
                return null;
            }
            if (path.equals(LOGOUT)) {
                logout(req, res);
                res.sendRedirect(root + "/align4j");
                return null;
            }
            Optional<Sessions.Session> s = sessions.find(cookie(req));
            String user = s.map(Sessions.Session::user).orElseGet(() -> basic(req));
            if (user == null) {
                refuse(req, res, root, null, 401);
                return null;
            }
            if (!safe(req.getMethod()) && !sameOrigin(req)) {
                res.sendError(403, "a request that changes something must come from the console's own pages"
                        + " (its Origin or Referer names another site)");
                return null;
            }
            req.setAttribute(Sessions.Session.class.getName(), s.orElseGet(() -> new Sessions.Session(user,
                    sessions.basicCsrf(user))));
            return user;
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public boolean authorize(Object user, String role) {
        return user != null;
    }

    @Override
    public void logout(HttpServletRequest req, HttpServletResponse res) {
        sessions.close(cookie(req));
        Cookie c = new Cookie(COOKIE, "");
        c.setPath(root);
        c.setMaxAge(0);
        c.setHttpOnly(true);
        res.addCookie(c);
    }

    /** The session of a request this provider let through (set on the request by {@link #authenticate}). */
    static Optional<Sessions.Session> session(HttpServletRequest req) {
        Object s = req.getAttribute(Sessions.Session.class.getName());
        return s instanceof Sessions.Session x ? Optional.of(x) : Optional.empty();
    }

    private void signIn(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String user = req.getParameter("j_username");
        String password = req.getParameter("j_password");
        if (!sameOrigin(req)) {
            res.sendError(403, "sign in from the console's own page");
            return;
        }
        if (!credentials.matches(user, password)) {
            try {
                Thread.sleep(400); // slows guessing down
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            refuse(req, res, root, "wrong user name or password", 401);
            return;
        }
        String token = sessions.open(user);
        String path = root;
        // SameSite=Strict: the browser never sends the cookie with a request another site starts
        res.addHeader("Set-Cookie", COOKIE + "=" + token + "; Path=" + path + "; HttpOnly; SameSite=Strict");
        res.setStatus(303);
        res.setHeader("Location", root + "/align4j");
    }

    private String basic(HttpServletRequest req) {
        String h = req.getHeader("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String user = decoded.substring(0, colon);
        return credentials.matches(user, decoded.substring(colon + 1)) ? user : null;
    }

    private static String cookie(HttpServletRequest req) {
        Cookie[] cookies = req.getCookies();
        if (cookies != null) {
            for (Cookie c : cookies) {
                if (COOKIE.equals(c.getName())) {
                    return c.getValue();
                }
            }
        }
        return null;
    }

    static boolean safe(String method) {
        return "GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method);
    }

    /** Whether Origin (or, without it, Referer) names this server; a request with neither is not a browser's. */
    static boolean sameOrigin(HttpServletRequest req) {
        String origin = req.getHeader("Origin");
        if (origin == null || origin.isBlank() || origin.equals("null")) {
            origin = req.getHeader("Referer");
        }
        if (origin == null || origin.isBlank()) {
            return true;
        }
        try {
            URI u = URI.create(origin.trim());
            String host = req.getServerName();
            int port = req.getServerPort();
            int p = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
            return u.getHost() != null && u.getHost().equalsIgnoreCase(host) && p == port;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** 401 with the sign-in form for a page, or a sentence for anything else. */
    private static void refuse(HttpServletRequest req, HttpServletResponse res, String root, String error,
            int status) throws IOException {
        res.setStatus(status);
        res.setHeader("Cache-Control", "no-store");
        String accept = req.getHeader("Accept");
        boolean page = "GET".equals(req.getMethod()) && accept != null && accept.toLowerCase(Locale.ROOT)
                .contains("text/html") || req.getRequestURI().endsWith(LOGIN);
        if (!page) {
            res.setContentType("application/json;charset=utf-8");
            res.getWriter().write("{\"error\":\"sign in first: POST j_username and j_password to "
                    + root + LOGIN + ", or send HTTP Basic credentials\"}");
            return;
        }
        res.setContentType("text/html;charset=utf-8");
        PrintWriter w = res.getWriter();
        w.println("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>align4j: sign in</title>"
                + "<link rel=\"icon\" href=\"data:,\">");
        w.println("<style>body{font-family:sans-serif;max-width:22em;margin:4em auto}label{display:block;"
                + "margin:.6em 0 .2em}input{width:100%;padding:.3em}button{margin-top:1em;padding:.4em 1.2em}"
                + ".err{color:#b00020}</style></head><body>");
        w.println("<h1>align4j console</h1>");
        if (error != null) {
            w.println("<p class=\"err\" id=\"login-error\">" + error + "</p>");
        }
        w.println("<form method=\"post\" action=\"" + root + LOGIN + "\">");
        w.println("<label for=\"j_username\">User</label><input id=\"j_username\" name=\"j_username\""
                + " autocomplete=\"username\" required>");
        w.println("<label for=\"j_password\">Password</label><input id=\"j_password\" name=\"j_password\""
                + " type=\"password\" autocomplete=\"current-password\" required>");
        w.println("<button id=\"login-submit\" type=\"submit\">Sign in</button></form>");
        w.println("<p><small>The password was printed once when the server first started, or set at install."
                + "</small></p></body></html>");
    }
}
