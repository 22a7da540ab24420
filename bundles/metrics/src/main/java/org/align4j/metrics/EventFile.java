package org.align4j.metrics;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One TensorBoard event file: a sequence of records, each a serialized {@code tensorflow.Event} protocol buffer.
 *
 * <pre>
 * record  = length (uint64, little-endian) | masked CRC32C of the 8 length bytes (uint32 LE)
 *           | data | masked CRC32C of data (uint32 LE)
 * masked  = ((crc &gt;&gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8
 * Event   = 1: wall_time (double) | 2: step (int64) | 3: file_version (string) | 5: summary (Summary)
 * Summary = 1: value (repeated Value);   Value = 1: tag (string) | 2: simple_value (float)
 * </pre>
 *
 * The first record names the format ({@code file_version: "brain.Event:2"}); then one record per scalar. The file is
 * named {@code events.out.tfevents.<seconds>.<host>.<n>} (TensorBoard reads files whose name holds "tfevents") and is
 * only ever appended to, each record flushed as a whole, so a TensorBoard following it sees whole records.
 */
final class EventFile implements Closeable {
    static final String FILE_VERSION = "brain.Event:2";

    private final Path file;
    private final OutputStream out;

    private EventFile(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /** A new event file in {@code dir} (created), starting with the file-version record. */
    static EventFile create(Path dir, long wallMillis, String host) throws IOException {
        Files.createDirectories(dir);
        String base = "events.out.tfevents." + (wallMillis / 1000) + "." + safe(host);
        Path file = dir.resolve(base);
        for (int n = 1; Files.exists(file); n++) { // a resumed run in the same second: a file of its own
            file = dir.resolve(base + "." + n);
        }
        EventFile f = new EventFile(file, new BufferedOutputStream(Files.newOutputStream(file,
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)));
        ByteArrayOutputStream event = new ByteArrayOutputStream();
        wallTime(event, wallMillis);
        bytes(event, 3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        f.record(event.toByteArray());
        f.out.flush();
        return f;
    }

    Path file() {
        return file;
    }

    /** Appends one scalar event: {@code tag} at {@code step}. Call {@link #flush()} after a batch of them. */
    void scalar(String tag, long step, long wallMillis, float value) throws IOException {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        bytes(v, 1, tag.getBytes(StandardCharsets.UTF_8));
        v.write(2 << 3 | 5); // field 2, 32-bit
        int bits = Float.floatToIntBits(value);
        for (int i = 0; i < 4; i++) {
            v.write(bits >>> (8 * i));
        }
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        bytes(summary, 1, v.toByteArray());
        ByteArrayOutputStream event = new ByteArrayOutputStream();
        wallTime(event, wallMillis);
        event.write(2 << 3); // field 2, varint
        varint(event, step);
        bytes(event, 5, summary.toByteArray());
        record(event.toByteArray());
    }

    void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private void record(byte[] data) throws IOException {
        byte[] length = new byte[8];
        for (int i = 0; i < 8; i++) {
            length[i] = (byte) ((long) data.length >>> (8 * i));
        }
        out.write(length);
        int32(out, maskedCrc(length));
        out.write(data);
        int32(out, maskedCrc(data));
    }

    /** CRC32C (Castagnoli) of {@code data}, rotated right by 15 bits plus {@code 0xa282ead8}, as TFRecord stores it. */
    static int maskedCrc(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    private static void wallTime(ByteArrayOutputStream event, long wallMillis) {
        event.write(1 << 3 | 1); // field 1, 64-bit
        long bits = Double.doubleToLongBits(wallMillis / 1000.0);
        for (int i = 0; i < 8; i++) {
            event.write((int) (bits >>> (8 * i)));
        }
    }

    /** A length-delimited field. */
    private static void bytes(ByteArrayOutputStream out, int field, byte[] value) {
        out.write(field << 3 | 2);
        varint(out, value.length);
        out.writeBytes(value);
    }

    private static void varint(ByteArrayOutputStream out, long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static void int32(OutputStream out, int v) throws IOException {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
    }

    /** A host name fit for a file name. */
    private static String safe(String host) {
        String s = host == null || host.isBlank() ? "localhost" : host.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.length() > 64 ? s.substring(0, 64) : s;
    }
}
