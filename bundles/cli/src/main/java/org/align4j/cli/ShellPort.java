package org.align4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The Gogo shell on a local port, for a server started without a terminal: off unless a port is given (framework
 * property {@value #PORT_PROPERTY}, {@code align4j server --shell-port N}, or {@code port} in
 * {@code deploy/org.align4j.cli.shellport.cfg}). It listens on 127.0.0.1 only: anyone who can open a connection on
 * this machine can run commands, so it is for the machine's own operators ({@code telnet 127.0.0.1 N} or
 * {@code nc 127.0.0.1 N}; one command a line, its result printed as the shell prints it).
 */
@Component(configurationPid = ShellPort.PID, immediate = true)
@Designate(ocd = ShellPort.Config.class)
public final class ShellPort {
    public static final String PID = "org.align4j.cli.shellport";
    public static final String PORT_PROPERTY = "align4j.shell.port";

    @ObjectClassDefinition(name = "align4j shell port", description = "The Gogo shell on a port of 127.0.0.1.")
    public @interface Config {
        @AttributeDefinition(description = "Port on 127.0.0.1; 0 (the default) keeps it closed")
        int port() default 0;
    }

    private final CommandProcessor processor;
    private final ServerSocket server;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    @Activate
    public ShellPort(BundleContext context, Config config, @Reference(name = "processor") CommandProcessor processor)
            throws IOException {
        this.processor = processor;
        int port = config.port();
        String given = context.getProperty(PORT_PROPERTY);
        if (port == 0 && given != null && !given.isBlank()) {
            try {
                port = Integer.parseInt(given.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PORT_PROPERTY + ": expected a port number, got \"" + given + "\"");
            }
        }
        if (port <= 0) {
            server = null;
            acceptor = null;
            return;
        }
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        System.out.println("align4j: the Gogo shell listens on 127.0.0.1:" + server.getLocalPort()
                + " (telnet 127.0.0.1 " + server.getLocalPort() + ")");
        acceptor = new Thread(this::accept, "align4j-shell-port");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port listened on, or -1 when closed. */
    public int port() {
        return server == null ? -1 : server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "align4j-shell-" + s.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                StandardCharsets.UTF_8)); PrintStream out = new PrintStream(socket.getOutputStream(), true,
                StandardCharsets.UTF_8)) {
            CommandSession session = processor.createSession(socket.getInputStream(), out, out);
            try {
                out.println("align4j shell (Gogo): one command a line, e.g. align4j:runs; exit to leave");
                out.print("g! ");
                out.flush();
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    String cmd = line.strip();
                    if (cmd.equals("exit") || cmd.equals("quit")) {
                        break;
                    }
                    if (!cmd.isEmpty()) {
                        try {
                            Object result = session.execute(cmd);
                            if (result != null) {
                                out.println(session.format(result, Converter.INSPECT));
                            }
                        } catch (Exception e) {
                            out.println((e.getMessage() == null ? e.getClass().getName() : e.getMessage()));
                        }
                    }
                    out.print("g! ");
                    out.flush();
                }
            } finally {
                session.close();
            }
        } catch (IOException gone) {
            // the client went away
        } finally {
            open.remove(socket);
        }
    }

    @Deactivate
    void deactivate() throws IOException {
        if (server != null) {
            server.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }
}
