package org.align4j.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;


/**
 * Reads a file line by line as strict UTF-8, keeping the line number. Lines end at {@code \n}; a {@code \r} before it
 * is dropped, so CRLF files read like LF files; a last line without a newline counts. A UTF-8 byte order mark at the
 * start is skipped. Each line is decoded on its own, so a bad byte is reported on the line that holds it, and the
 * reader can go on with the next line.
 */
final class Utf8Lines implements Closeable {
    private final String name;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] chunk = new byte[1 << 16];
    private int pos;
    private int limit;
    private byte[] buf = new byte[256];
    private long line;
    private boolean eof;

    private Utf8Lines(String name, InputStream in) {
        this.name = name;
        this.in = in;
    }

    /** Opens {@code file}; a missing file fails with {@code file: no such file (working directory: ...)}. */
    static Utf8Lines open(Path file) throws IOException {
        String name = file.toString();
        if (!Files.exists(file)) {
            throw new NoSuchFileException(name, null,
                    "no such file (working directory: " + Paths.get("").toAbsolutePath() + ")");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(name + ": is a directory; expected a dataset file");
        }
        return new Utf8Lines(name, Files.newInputStream(file));
    }

    /** The file name as given, for messages and records. */
    String name() {
        return name;
    }

    /** The 1-based number of the line last returned (or that failed to decode). */
    long lineNumber() {
        return line;
    }

    /**
     * The next line, or {@code null} at the end of the file.
     *
     * @throws InvalidUtf8Exception {@code file:line: invalid UTF-8 ...} when the line is not UTF-8; the next call
     *         reads on
     */
    String next() throws IOException {
        if (eof && pos >= limit) {
            return null;
        }
        int n = 0;
        boolean newline = false;
        while (!newline) {
            if (pos >= limit) {
                limit = eof ? -1 : in.read(chunk);
                pos = 0;
                if (limit < 0) {
                    eof = true;
                    limit = 0;
                    break;
                }
            }
            int end = pos;
            while (end < limit && chunk[end] != '\n') {
                end++;
            }
            int len = end - pos;
            if (n + len > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + len));
            }
            System.arraycopy(chunk, pos, buf, n, len);
            n += len;
            newline = end < limit;
            pos = newline ? end + 1 : end;
        }
        if (!newline && n == 0) {
            return null;
        }
        line++;
        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
        int start = 0;
        if (line == 1 && n >= 3 && buf[0] == (byte) 0xEF && buf[1] == (byte) 0xBB && buf[2] == (byte) 0xBF) {
            start = 3;
        }
        return decode(start, n);
    }

    private String decode(int from, int to) {
        ByteBuffer bytes = ByteBuffer.wrap(buf, from, to - from);
        CharBuffer chars = CharBuffer.allocate(to - from);
        decoder.reset();
        CoderResult r = decoder.decode(bytes, chars, true);
        if (!r.isError()) {
            r = decoder.flush(chars);
        }
        if (r.isError()) {
            int at = bytes.position();
            StringBuilder hex = new StringBuilder();
            for (int i = at; i < at + r.length() && i < to; i++) {
                hex.append(hex.length() == 0 ? "" : " ").append(String.format("0x%02X", buf[i] & 0xFF));
            }
            throw new InvalidUtf8Exception(name, line, Arrays.copyOfRange(buf, from, to), at - from, hex.toString());
        }
        chars.flip();
        return chars.toString();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
