package org.align4j.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The console's one account, kept in a properties file: the user name, and the password only as a salted
 * PBKDF2-HMAC-SHA256 hash ({@value #ITERATIONS} iterations). A password set at install (given to
 * {@link #ensure}) is hashed and stored; without one, a random password is generated at first start, returned once
 * so it can be shown, and stored hashed like any other. There is no default password.
 */
final class Credentials {
    static final int ITERATIONS = 210_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    private final String user;
    private final byte[] salt;
    private final byte[] hash;
    private final int iterations;

    private Credentials(String user, byte[] salt, byte[] hash, int iterations) {
        this.user = user;
        this.salt = salt;
        this.hash = hash;
        this.iterations = iterations;
    }

    /** What {@link #ensure} found or made: the credentials, and the password when it generated one. */
    record Loaded(Credentials credentials, String generatedPassword, boolean created) {
    }

    /**
     * Reads {@code file}; when it does not exist, creates it for {@code user} with {@code password}, or with a
     * generated password when {@code password} is null or blank.
     *
     * @throws IOException when the file cannot be read or written, or is malformed (its path in the message)
     */
    static Loaded ensure(Path file, String user, String password) throws IOException {
        if (Files.isRegularFile(file)) {
            return new Loaded(read(file), null, false);
        }
        String pw = password == null || password.isBlank() ? generate(20) : password;
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        Credentials c = new Credentials(user, salt, hash(pw.toCharArray(), salt, ITERATIONS), ITERATIONS);
        c.write(file);
        return new Loaded(c, password == null || password.isBlank() ? pw : null, true);
    }

    static Credentials read(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        try {
            String user = required(p, "user", file);
            byte[] salt = Base64.getDecoder().decode(required(p, "salt", file));
            byte[] hash = Base64.getDecoder().decode(required(p, "hash", file));
            int iterations = Integer.parseInt(required(p, "iterations", file));
            if (!"PBKDF2WithHmacSHA256".equals(p.getProperty("algorithm", "PBKDF2WithHmacSHA256"))) {
                throw new IOException(file + ": algorithm " + p.getProperty("algorithm")
                        + " is not supported (PBKDF2WithHmacSHA256 is)");
            }
            return new Credentials(user, salt, hash, iterations);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": malformed (" + e.getMessage() + "); delete it to have a new password"
                    + " generated at the next start", e);
        }
    }

    private static String required(Properties p, String key, Path file) throws IOException {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IOException(file + ": " + key + " is missing; delete the file to have a new password generated"
                    + " at the next start");
        }
        return v.trim();
    }

    private void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".credentials", ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException notPosix) {
                // Windows: the folder's own permissions apply
            }
            Properties p = new Properties();
            p.setProperty("user", user);
            p.setProperty("algorithm", "PBKDF2WithHmacSHA256");
            p.setProperty("iterations", String.valueOf(iterations));
            p.setProperty("salt", Base64.getEncoder().encodeToString(salt));
            p.setProperty("hash", Base64.getEncoder().encodeToString(hash));
            try (OutputStream out = Files.newOutputStream(tmp)) {
                p.store(out, "align4j web console account: the password is stored only as a salted PBKDF2 hash."
                        + " Delete this file and restart to have a new password generated and printed once.");
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    String user() {
        return user;
    }

    /** Whether {@code user} and {@code password} match, compared in constant time. */
    boolean matches(String user, String password) {
        if (user == null || password == null) {
            return false;
        }
        byte[] h = hash(password.toCharArray(), salt, iterations);
        boolean userOk = MessageDigest.isEqual(user.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                this.user.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return MessageDigest.isEqual(h, hash) & userOk;
    }

    static byte[] hash(char[] password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, 256);
            try {
                return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            } finally {
                spec.clearPassword();
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JVM", e);
        }
    }

    static String generate(int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }

    /** A random token for cookies and CSRF: 256 bits, URL-safe Base64. */
    static String token() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
