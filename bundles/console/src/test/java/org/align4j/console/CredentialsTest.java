package org.align4j.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {
    @TempDir
    Path dir;

    @Test
    void aGeneratedPasswordIsReturnedOnceAndStoredOnlyAsAHash() throws Exception {
        Path f = dir.resolve("conf/credentials.properties");
        Credentials.Loaded first = Credentials.ensure(f, "admin", null);
        String pw = first.generatedPassword();
        assertNotNull(pw);
        assertEquals(20, pw.length());
        String stored = Files.readString(f);
        assertFalse(stored.contains(pw));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        Credentials.Loaded again = Credentials.ensure(f, "admin", null);
        assertNull(again.generatedPassword(), "the password is shown only when it is made");
        assertTrue(again.credentials().matches("admin", pw));
        assertFalse(again.credentials().matches("admin", "admin"));
        assertFalse(again.credentials().matches("root", pw));
        assertFalse(again.credentials().matches("admin", pw + " "));
        assertFalse(again.credentials().matches(null, pw));
    }

    @Test
    void aPasswordGivenAtInstallIsStoredHashedAndNotShown() throws Exception {
        Path f = dir.resolve("c.properties");
        Credentials.Loaded c = Credentials.ensure(f, "ops", "correct horse battery");
        assertNull(c.generatedPassword());
        assertTrue(c.created());
        assertTrue(Credentials.read(f).matches("ops", "correct horse battery"));
        assertFalse(Files.readString(f).contains("correct horse"));
    }

    /** PBKDF2-HMAC-SHA256 with one block, computed here from its definition (RFC 8018) with a plain HMAC. */
    @Test
    void theHashIsPbkdf2HmacSha256() throws Exception {
        byte[] salt = "NaCl-salt-16byte".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        char[] password = "p4ss".toCharArray();
        int iterations = 1000;
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("p4ss".getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] u = mac.doFinal(concat(salt, new byte[] {0, 0, 0, 1}));
        byte[] t = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < t.length; j++) {
                t[j] ^= u[j];
            }
        }
        assertEquals(HexFormat.of().formatHex(t), HexFormat.of().formatHex(Credentials.hash(password, salt,
                iterations)));
    }

    @Test
    void aMalformedFileIsRefusedNamingItAndHowToStartOver() throws Exception {
        Path f = dir.resolve("bad.properties");
        Files.writeString(f, "user=admin\nsalt=%%%\nhash=AAAA\niterations=10\n");
        IOException e = assertThrows(IOException.class, () -> Credentials.ensure(f, "admin", null));
        assertTrue(e.getMessage().startsWith(f + ": malformed"), e.getMessage());
        assertTrue(e.getMessage().contains("delete it"), e.getMessage());
        Files.writeString(f, "user=admin\n");
        IOException missing = assertThrows(IOException.class, () -> Credentials.read(f));
        assertTrue(missing.getMessage().contains("salt is missing"), missing.getMessage());
    }

    @Test
    void sessionsEndWhenIdleOrClosedAndTokensAreUnguessable() {
        long[] now = {0};
        Sessions s = new Sessions(1000, () -> now[0]);
        String token = s.open("admin");
        assertEquals(43, token.length()); // 256 bits, URL-safe Base64
        Sessions.Session session = s.find(token).orElseThrow();
        assertEquals("admin", session.user());
        assertFalse(session.csrf().equals(token));
        now[0] = 900;
        assertTrue(s.find(token).isPresent()); // used: the idle time starts again
        now[0] = 1800;
        assertTrue(s.find(token).isPresent());
        now[0] = 2900;
        assertTrue(s.find(token).isEmpty());
        String other = s.open("admin");
        s.close(other);
        assertTrue(s.find(other).isEmpty());
        assertTrue(s.find("forged").isEmpty());
        assertTrue(s.find(null).isEmpty());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
