package org.align4j.console;

import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Signed-in browsers: a random cookie token maps to the user and a CSRF token of its own. A session ends after
 * {@code idleMillis} without a request, or at sign-out. Sessions live in memory: a restart signs everyone out.
 */
final class Sessions {
    /** One signed-in browser. */
    record Session(String user, String csrf) {
    }

    private record Entry(Session session, long lastUsed) {
    }

    private final Map<String, Entry> byToken = new ConcurrentHashMap<>();
    /** A CSRF token per user for requests signed with HTTP Basic (scripts): they fetch it from state.json. */
    private final Map<String, String> basicCsrf = new ConcurrentHashMap<>();
    private final long idleMillis;
    private final LongSupplier clock;

    Sessions(long idleMillis, LongSupplier clock) {
        this.idleMillis = idleMillis;
        this.clock = clock;
    }

    /** Starts a session; returns its cookie token. */
    String open(String user) {
        purge();
        String token = Credentials.token();
        byToken.put(token, new Entry(new Session(user, Credentials.token()), clock.getAsLong()));
        return token;
    }

    Optional<Session> find(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        long now = clock.getAsLong();
        Entry e = byToken.get(token);
        if (e == null) {
            return Optional.empty();
        }
        if (now - e.lastUsed > idleMillis) {
            byToken.remove(token, e);
            return Optional.empty();
        }
        byToken.replace(token, e, new Entry(e.session, now));
        return Optional.of(e.session);
    }

    void close(String token) {
        if (token != null) {
            byToken.remove(token);
        }
    }

    /** The CSRF token for a user signed in with HTTP Basic. */
    String basicCsrf(String user) {
        return basicCsrf.computeIfAbsent(user, u -> Credentials.token());
    }

    private void purge() {
        long now = clock.getAsLong();
        for (Iterator<Entry> it = byToken.values().iterator(); it.hasNext();) {
            if (now - it.next().lastUsed > idleMillis) {
                it.remove();
            }
        }
    }
}
