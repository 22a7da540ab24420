package org.align4j.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.align4j.api.metrics.TrainingEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TensorBoard event files a run leaves, read back by a reader written here from the format's description (record
 * framing with masked CRC32C computed bit by bit, {@code Event} and {@code Summary} protocol buffers decoded field by
 * field), never by the writer's code.
 */
class TensorBoardLogTest {

    @TempDir
    Path dir;

    /** One decoded event: wall time, step, file version (or null), and its scalars. */
    record Event(double wallTime, long step, String fileVersion, List<Scalar> scalars) {
    }

    record Scalar(String tag, float value) {
    }

    // ---- the independent reader ----

    /** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit. */
    static int crc32c(byte[] data, int from, int length) {
        int crc = 0xFFFFFFFF;
        for (int i = from; i < from + length; i++) {
            crc ^= data[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        return ~crc;
    }

    static int mask(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    static long littleEndian(byte[] b, int at, int bytes) {
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xFF);
        }
        return v;
    }

    /** Every record of an event file, each checked against both its CRCs; a torn record fails. */
    static List<byte[]> records(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        List<byte[]> out = new ArrayList<>();
        int at = 0;
        while (at < b.length) {
            assertTrue(at + 12 <= b.length, file + ": a record header is cut at byte " + at);
            long length = littleEndian(b, at, 8);
            assertEquals(mask(crc32c(b, at, 8)), (int) littleEndian(b, at + 8, 4), "length CRC at byte " + at);
            int data = at + 12;
            assertTrue(data + length + 4 <= b.length, file + ": a record is cut at byte " + at);
            assertEquals(mask(crc32c(b, data, (int) length)), (int) littleEndian(b, data + (int) length, 4),
                    "data CRC at byte " + at);
            out.add(java.util.Arrays.copyOfRange(b, data, data + (int) length));
            at = data + (int) length + 4;
        }
        return out;
    }

    /** A protocol-buffer reader over one message: fields in order as (number, wire type, value). */
    static final class Fields {
        private final byte[] b;
        private int at;

        Fields(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return at < b.length;
        }

        long varint() {
            long v = 0;
            for (int shift = 0;; shift += 7) {
                int x = b[at++] & 0xFF;
                v |= (long) (x & 0x7F) << shift;
                if (x < 0x80) {
                    return v;
                }
            }
        }

        long fixed(int bytes) {
            long v = littleEndian(b, at, bytes);
            at += bytes;
            return v;
        }

        byte[] delimited() {
            int n = (int) varint();
            byte[] out = java.util.Arrays.copyOfRange(b, at, at + n);
            at += n;
            return out;
        }
    }

    static Event decode(byte[] message) {
        Fields f = new Fields(message);
        double wall = Double.NaN;
        long step = 0;
        String version = null;
        List<Scalar> scalars = new ArrayList<>();
        while (f.more()) {
            long key = f.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 1) {
                wall = Double.longBitsToDouble(f.fixed(8));
            } else if (field == 2 && wire == 0) {
                step = f.varint();
            } else if (field == 3 && wire == 2) {
                version = new String(f.delimited(), StandardCharsets.UTF_8);
            } else if (field == 5 && wire == 2) {
                Fields summary = new Fields(f.delimited());
                while (summary.more()) {
                    long k = summary.varint();
                    assertEquals(1 << 3 | 2, k, "Summary holds only values");
                    Fields value = new Fields(summary.delimited());
                    String tag = null;
                    float v = Float.NaN;
                    while (value.more()) {
                        long vk = value.varint();
                        if (vk == (1 << 3 | 2)) {
                            tag = new String(value.delimited(), StandardCharsets.UTF_8);
                        } else if (vk == (2 << 3 | 5)) {
                            v = Float.intBitsToFloat((int) value.fixed(4));
                        } else {
                            throw new AssertionError("unexpected Value field " + vk);
                        }
                    }
                    scalars.add(new Scalar(tag, v));
                }
            } else {
                throw new AssertionError("unexpected Event field " + field + " (wire type " + wire + ")");
            }
        }
        return new Event(wall, step, version, scalars);
    }

    static List<Event> events(Path file) throws IOException {
        List<Event> out = new ArrayList<>();
        for (byte[] r : records(file)) {
            out.add(decode(r));
        }
        return out;
    }

    static List<Path> eventFiles(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().contains("tfevents")).sorted().toList();
        }
    }

    // ---- the tests ----

    static TensorBoardLog.Config config(boolean enabled, String folder) {
        return new TensorBoardLog.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return TensorBoardLog.Config.class;
            }

            @Override
            public boolean enabled() {
                return enabled;
            }

            @Override
            public String folder() {
                return folder;
            }
        };
    }

    private TrainingEvent event(TrainingEvent.Kind kind, String stage, long step, long millis, Object... metrics) {
        TrainingEvent.Builder b = TrainingEvent.builder(kind, "tiny").stage(stage).step(step).time(millis)
                .workDir(dir.resolve("run"));
        for (int i = 0; i < metrics.length; i += 2) {
            b.metric((String) metrics[i], ((Number) metrics[i + 1]).doubleValue());
        }
        return b.build();
    }

    @Test
    void stepsAndEvaluationsOfEachStageBecomeScalarsOfItsOwnRun() throws IOException {
        TensorBoardLog log = new TensorBoardLog(config(true, "tensorboard"));
        log.onEvent(event(TrainingEvent.Kind.RUN_STARTED, "", 0, 1_700_000_000_000L));
        log.onEvent(event(TrainingEvent.Kind.STAGE_STARTED, "0:pretrain", 0, 1_700_000_000_500L));
        log.onEvent(event(TrainingEvent.Kind.STEP, "0:pretrain", 1, 1_700_000_001_250L, "loss", 6.25,
                "learning_rate", 3e-4));
        log.onEvent(event(TrainingEvent.Kind.STEP, "0:pretrain", 300, 1_700_000_002_000L, "loss", 2.5,
                "learning_rate", 1.5e-4));
        log.onEvent(event(TrainingEvent.Kind.EVALUATION, "0:pretrain", 300, 1_700_000_002_100L, "eval_loss", 2.75));
        // a file that TensorBoard can follow: complete records while the stage still runs
        Path pretrain = dir.resolve("run/tensorboard/stage-0-pretrain");
        assertEquals(1, eventFiles(pretrain).size());
        assertEquals(6, events(eventFiles(pretrain).get(0)).size()); // the version record and five scalars
        log.onEvent(event(TrainingEvent.Kind.STAGE_FINISHED, "0:pretrain", 300, 1_700_000_002_200L));
        log.onEvent(event(TrainingEvent.Kind.STEP, "1:ppo", 1, 1_700_000_003_000L, "objective/kl", 0.125,
                "objective/scores", Double.NaN));
        log.onEvent(event(TrainingEvent.Kind.RUN_FINISHED, "", 0, 1_700_000_004_000L));
        assertEquals(0, log.openFiles());

        List<Event> first = events(eventFiles(pretrain).get(0));
        assertEquals("brain.Event:2", first.get(0).fileVersion());
        assertEquals(1_700_000_001.25, first.get(1).wallTime(), 1e-9);
        assertEquals(List.of(new Scalar("loss", 6.25f)), first.get(1).scalars());
        assertEquals(1, first.get(1).step());
        assertEquals(List.of(new Scalar("learning_rate", 3e-4f)), first.get(2).scalars());
        assertEquals(300, first.get(3).step()); // a step above 127 takes two varint bytes
        assertEquals(List.of(new Scalar("loss", 2.5f)), first.get(3).scalars());
        assertEquals(List.of(new Scalar("eval_loss", 2.75f)), first.get(5).scalars());
        assertEquals(6, first.size());

        List<Event> ppo = events(eventFiles(dir.resolve("run/tensorboard/stage-1-ppo")).get(0));
        assertEquals(new Scalar("objective/kl", 0.125f), ppo.get(1).scalars().get(0));
        assertTrue(Float.isNaN(ppo.get(2).scalars().get(0).value()), "NaN is a float TensorBoard shows");
    }

    @Test
    void aResumedStageWritesANewFileBesideTheOld() throws IOException {
        for (int i = 0; i < 2; i++) {
            TensorBoardLog log = new TensorBoardLog(config(true, "tensorboard"));
            log.onEvent(event(TrainingEvent.Kind.STEP, "0:sft", 10 + i, 1_700_000_000_000L, "loss", 1.0 + i));
            log.deactivate(); // the framework stops: the file is closed whole
        }
        List<Path> files = eventFiles(dir.resolve("run/tensorboard/stage-0-sft"));
        assertEquals(2, files.size(), files.toString());
        assertEquals(11, events(files.get(1)).get(1).step());
    }

    @Test
    void disabledItWritesNothingAndAFolderOutsideTheWorkdirIsRefused() throws IOException {
        TensorBoardLog off = new TensorBoardLog(config(false, "tensorboard"));
        off.onEvent(event(TrainingEvent.Kind.STEP, "0:sft", 1, 1_700_000_000_000L, "loss", 1.0));
        assertTrue(!Files.exists(dir.resolve("run/tensorboard")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorBoardLog(config(true, "../elsewhere")));
        assertEquals("org.align4j.metrics.tensorboard: folder: expected a folder name under the run's workdir, got"
                + " \"../elsewhere\"", e.getMessage());
    }

    @Test
    void theWritersChecksumIsTheReadersCastagnoliCrc() {
        // the standard check value of CRC-32C: "123456789" -> 0xE3069283
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, crc32c(check, 0, check.length));
        assertEquals(mask(0xE3069283), EventFile.maskedCrc(check));
    }
}
