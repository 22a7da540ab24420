package org.align4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.data.Content;
import org.align4j.api.data.ConversationalExample;
import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.Examples;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.data.TextExample;
import org.align4j.api.loss.StepLabel;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StructuredDatasetsImplTest {

    @TempDir
    Path dir;

    private final StructuredDatasetsImpl datasets = new StructuredDatasetsImpl();

    private Path write(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return p;
    }

    private Examples read(Path p, DatasetFormat format) throws IOException {
        return datasets.read(p, format, false);
    }

    /** The message of the error reading {@code p}; checks it is a user's error, not a programmer's. */
    private String error(Path p, DatasetFormat format) {
        DataException e = assertThrows(DataException.class, () -> datasets.read(p, format, false));
        return clean(e.getMessage());
    }

    /** Asserts {@code message} carries no stack trace or Java class name, and returns it. */
    static String clean(String message) {
        for (String bad : List.of("Exception", "\tat ", "\n", "java.", "com.fasterxml", "org.align4j", "Error:",
                "[Source:")) {
            assertFalse(message.contains(bad), () -> "\"" + bad + "\" in: " + message);
        }
        return message;
    }

    private static List<ChatMessage> msgs(String... roleContent) {
        List<ChatMessage> out = new java.util.ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            out.add(new ChatMessage(roleContent[i], roleContent[i + 1]));
        }
        return out;
    }

    // ---- each format ----

    @Test
    void text() throws IOException {
        Path p = write("t.jsonl", "{\"text\": \"hello\"}", "", "{\"text\": \"wörld 🌍\\n\"}");
        Examples r = read(p, null);
        assertEquals(DatasetFormat.TEXT, r.format());
        List<TextExample> xs = r.as(TextExample.class);
        assertEquals(List.of("hello", "wörld 🌍\n"), xs.stream().map(TextExample::text).toList());
        assertEquals(3, xs.get(1).line());
        assertEquals(p + ":3", xs.get(1).location());
        assertEquals(p.toString(), xs.get(1).source());
        assertEquals(List.of(), r.skipped());
        assertEquals(List.of(), r.warnings());
    }

    @Test
    void promptCompletion() throws IOException {
        Path p = write("pc.jsonl", "{\"prompt\": \"2+2=\", \"completion\": \"4\"}",
                "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": "
                        + "\"2+3=\"}], \"completion\": [{\"role\": \"assistant\", \"content\": \"5\"}]}");
        List<PromptCompletionExample> xs = read(p, null).as(PromptCompletionExample.class);
        assertEquals(Content.text("2+2="), xs.get(0).prompt());
        assertEquals("4", xs.get(0).completion().text());
        assertFalse(xs.get(0).prompt().isConversational());
        assertTrue(xs.get(1).prompt().isConversational());
        assertEquals(msgs("system", "Be brief.", "user", "2+3="), xs.get(1).prompt().messages());
        assertEquals(msgs("assistant", "5"), xs.get(1).completion().messages());
        assertEquals(DatasetFormat.PROMPT_COMPLETION, xs.get(1).format());
    }

    @Test
    void conversational() throws IOException {
        Path p = write("c.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
                + "{\"role\": \"assistant\", \"content\": \"hello\"}, {\"role\": \"user\", \"content\": \"bye\"}, "
                + "{\"role\": \"assistant\", \"content\": \"\"}]}");
        Examples r = read(p, null);
        assertEquals(DatasetFormat.CONVERSATIONAL, r.format());
        ConversationalExample x = r.as(ConversationalExample.class).get(0);
        assertEquals(msgs("user", "hi", "assistant", "hello", "user", "bye", "assistant", ""), x.messages());
    }

    @Test
    void pairwise() throws IOException {
        Path p = write("pw.jsonl", "{\"prompt\": \"p\", \"chosen\": \"good\", \"rejected\": \"bad\"}",
                "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\", \"margin\": 2.5}",
                "{\"chosen\": \"Q: x A: y\", \"rejected\": \"Q: x A: z\", \"margin\": null}",
                "{\"prompt\": [{\"role\": \"user\", \"content\": \"u\"}], \"chosen\": [{\"role\": \"assistant\", "
                        + "\"content\": \"c\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"r\"}], "
                        + "\"margin\": 1}");
        List<PairwiseExample> xs = read(p, null).as(PairwiseExample.class);
        assertEquals(4, xs.size());
        assertEquals("p", xs.get(0).prompt().text());
        assertEquals("good", xs.get(0).chosen().text());
        assertEquals("bad", xs.get(0).rejected().text());
        assertTrue(xs.get(0).margin().isEmpty());
        assertEquals(2.5, xs.get(1).margin().getAsDouble());
        assertEquals("", xs.get(2).prompt().text()); // implicit prompt
        assertTrue(xs.get(2).margin().isEmpty()); // null margin = none
        assertEquals(msgs("user", "u"), xs.get(3).prompt().messages());
        assertEquals(msgs("assistant", "c"), xs.get(3).chosen().messages());
        assertEquals(msgs("assistant", "r"), xs.get(3).rejected().messages());
        assertEquals(1.0, xs.get(3).margin().getAsDouble());
    }

    @Test
    void listwise() throws IOException {
        Path p = write("lw.jsonl",
                "{\"prompt\": \"p\", \"completions\": [\"a\", \"b\", \"c\"], \"ranking\": [2, 0, 1]}",
                "{\"prompt\": \"q\", \"completions\": [\"x\", \"y\"], \"ranking\": [0, 1]}");
        List<ListwiseExample> xs = read(p, null).as(ListwiseExample.class);
        assertEquals("p", xs.get(0).prompt().text());
        assertEquals(List.of(Content.text("a"), Content.text("b"), Content.text("c")), xs.get(0).completions());
        assertArrayEquals(new int[] {2, 0, 1}, xs.get(0).ranking());
        assertArrayEquals(new int[] {0, 1}, xs.get(1).ranking());
    }

    @Test
    void pointwise() throws IOException {
        Path p = write("pt.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"score\": -0.25}",
                "{\"prompt\": \"p\", \"completion\": \"d\", \"score\": 3}");
        List<PointwiseExample> xs = read(p, null).as(PointwiseExample.class);
        assertEquals(-0.25, xs.get(0).score());
        assertEquals(3.0, xs.get(1).score());
        assertEquals("d", xs.get(1).completion().text());
    }

    @Test
    void process() throws IOException {
        Path p = write("pr.jsonl", "{\"prompt\": \"2+3*4=\", \"completions\": [\"3*4=12\", \"2+12=14\", \"so 14\"], "
                + "\"labels\": [true, null, false]}",
                "{\"prompt\": \"q\", \"completions\": [\"a\", \"b\", \"c\"], "
                        + "\"labels\": [\"incorrect\", \"correct\", \"neutral\"]}");
        List<ProcessExample> xs = read(p, null).as(ProcessExample.class);
        assertEquals("2+3*4=", xs.get(0).prompt());
        assertEquals(List.of("3*4=12", "2+12=14", "so 14"), xs.get(0).steps());
        assertArrayEquals(new int[] {StepLabel.CORRECT, StepLabel.NEUTRAL, StepLabel.INCORRECT}, xs.get(0).labels());
        assertArrayEquals(new int[] {StepLabel.INCORRECT, StepLabel.CORRECT, StepLabel.NEUTRAL}, xs.get(1).labels());
    }

    @Test
    void formatNamesAndDetection() throws IOException {
        for (DatasetFormat f : DatasetFormat.values()) {
            assertEquals(f, DatasetFormat.byName(f.trlName()));
            // A record holding exactly the format's fields is detected as that format.
            assertEquals(f, DatasetFormat.detect(Set.copyOf(f.fields())), f.trlName());
        }
        assertEquals(List.of("text", "prompt-completion", "conversational", "pairwise", "listwise", "pointwise",
                "process"), java.util.Arrays.stream(DatasetFormat.values()).map(DatasetFormat::trlName).toList());
        assertEquals(DatasetFormat.PAIRWISE, DatasetFormat.detect(Set.of("chosen", "rejected")));
        assertEquals(null, DatasetFormat.detect(Set.of("question", "answer")));
        // A given format wins over detection: a prompt-completion file read as text fails on "text".
        Path p = write("given.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"text\": \"t\"}");
        assertEquals(DatasetFormat.PROMPT_COMPLETION, read(p, null).format());
        assertEquals("t", read(p, DatasetFormat.TEXT).as(TextExample.class).get(0).text());
    }

    @Test
    void undetectableKeysFailNamingThem() throws IOException {
        Path p = write("q.jsonl", "", "{\"question\": \"q\", \"answer\": \"a\"}");
        assertEquals(p + ":2: cannot tell the dataset format from the fields \"question\", \"answer\"; expected the "
                + "fields of one of: text (text), prompt-completion (prompt, completion), conversational (messages), "
                + "pairwise (chosen, rejected, prompt, margin), listwise (prompt, completions, ranking), pointwise "
                + "(prompt, completion, score), process (prompt, completions, labels); or name the format "
                + "(format: ...)", error(p, null));
        // Not skippable: it is about the file.
        assertThrows(DataException.class, () -> datasets.read(p, null, true));
    }

    @Test
    void asTheWrongTypeSaysSo() throws IOException {
        Path p = write("t.jsonl", "{\"text\": \"a\"}");
        DataException e = assertThrows(DataException.class, () -> read(p, null).as(PairwiseExample.class));
        assertEquals(p + ": expected a dataset of PairwiseExamples, but the file is in the text format; give a "
                + "pairwise dataset", clean(e.getMessage()));
    }

    // ---- malformed records: one rule per test ----

    @Test
    void wrongType() throws IOException {
        Path p = write("w.jsonl", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}",
                "{\"prompt\": \"p\", \"chosen\": null, \"rejected\": \"b\"}");
        assertEquals(p + ":2: field \"chosen\": expected a string (as in \"prompt\"), got null", error(p, null));
        Path n = write("n.jsonl", "{\"text\": 42}");
        assertEquals(n + ":1: field \"text\": expected a string, got a number (42)", error(n, null));
        Path s = write("s.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"score\": \"high\"}");
        assertEquals(s + ":1: field \"score\": expected a number, got a string", error(s, null));
        Path b = write("b.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"score\": true}");
        assertEquals(b + ":1: field \"score\": expected a number, got a boolean (true)", error(b, null));
        Path m = write("m.jsonl", "{\"chosen\": \"a\", \"rejected\": \"b\", \"margin\": \"big\"}");
        assertEquals(m + ":1: field \"margin\": expected a number, got a string", error(m, null));
        Path first = write("f.jsonl", "{\"prompt\": 7, \"completion\": \"c\"}");
        assertEquals(first + ":1: field \"prompt\": expected a string or a list of messages, got a number (7)",
                error(first, null));
    }

    @Test
    void missingRequiredField() throws IOException {
        Path p = write("m.jsonl", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}",
                "{\"prompt\": \"p\", \"chosen\": \"a\"}");
        assertEquals(p + ":2: field \"rejected\": expected a string (as in \"prompt\"), got nothing (missing)",
                error(p, DatasetFormat.PAIRWISE));
        Path s = write("s.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\"}");
        assertEquals(s + ":1: field \"score\": expected a number, got nothing (missing)",
                error(s, DatasetFormat.POINTWISE));
    }

    @Test
    void mixedTextAndMessagesInOneRecord() throws IOException {
        Path p = write("x.jsonl", "{\"prompt\": [{\"role\": \"user\", \"content\": \"u\"}], \"completion\": \"c\"}");
        assertEquals(p + ":1: field \"completion\": expected a list of messages (as in \"prompt\"), got a string",
                error(p, null));
    }

    @Test
    void emptyList() throws IOException {
        Path p = write("e.jsonl", "{\"messages\": []}");
        assertEquals(p + ":1: field \"messages\": expected at least one message, got an empty list", error(p, null));
        Path s = write("s.jsonl", "{\"prompt\": \"p\", \"completions\": [], \"labels\": []}");
        assertEquals(s + ":1: field \"completions\": expected a list of steps (strings), got an empty list",
                error(s, null));
        Path l = write("l.jsonl", "{\"prompt\": \"p\", \"completions\": [], \"ranking\": []}");
        assertEquals(l + ":1: field \"completions\": expected a list of at least 2 completions, got an empty list",
                error(l, null));
    }

    @Test
    void listwiseNeedsTwoCompletions() throws IOException {
        Path p = write("one.jsonl", "{\"prompt\": \"p\", \"completions\": [\"a\"], \"ranking\": [0]}");
        assertEquals(p + ":1: field \"completions\": expected a list of at least 2 completions, got 1",
                error(p, null));
    }

    @Test
    void rankingNotAPermutation() throws IOException {
        String head = "{\"prompt\": \"p\", \"completions\": [\"a\", \"b\", \"c\"], \"ranking\": ";
        Path dup = write("dup.jsonl", head + "[1, 0, 1]}");
        assertEquals(dup + ":1: field \"ranking\": index 1 appears twice (at 0 and 2); a ranking lists each of the "
                + "3 completions once, best first", error(dup, null));
        Path range = write("range.jsonl", head + "[0, 3, 1]}");
        assertEquals(range + ":1: field \"ranking[1]\": index 3 is out of range; \"completions\" has 3 completions "
                + "(indices 0..2)", error(range, null));
        Path neg = write("neg.jsonl", head + "[0, -1, 1]}");
        assertEquals(neg + ":1: field \"ranking[1]\": index -1 is out of range; \"completions\" has 3 completions "
                + "(indices 0..2)", error(neg, null));
        Path len = write("len.jsonl", head + "[0, 1]}");
        assertEquals(len + ":1: field \"ranking\": expected 3 indices (one per completion in \"completions\", best "
                + "first), got 2", error(len, null));
        Path type = write("type.jsonl", head + "[0, 1.0, 2]}");
        assertEquals(type + ":1: field \"ranking[1]\": expected a whole number (an index into \"completions\"), got "
                + "a number (1.0)", error(type, null));
    }

    @Test
    void labelsLengthMismatch() throws IOException {
        Path p = write("l.jsonl",
                "{\"prompt\": \"p\", \"completions\": [\"a\", \"b\", \"c\"], \"labels\": [true, false]}");
        assertEquals(p + ":1: field \"labels\": expected 3 labels (one per step in \"completions\"), got 2",
                error(p, null));
    }

    @Test
    void unknownLabel() throws IOException {
        Path p = write("l.jsonl",
                "{\"prompt\": \"p\", \"completions\": [\"a\", \"b\"], \"labels\": [true, \"maybe\"]}");
        assertEquals(p + ":1: field \"labels[1]\": expected true, false, null, \"correct\", \"incorrect\" or "
                + "\"neutral\", got \"maybe\"", error(p, null));
        Path n = write("n.jsonl", "{\"prompt\": \"p\", \"completions\": [\"a\"], \"labels\": [1]}");
        assertEquals(n + ":1: field \"labels[0]\": expected true, false, null, \"correct\", \"incorrect\" or "
                + "\"neutral\", got a number (1)", error(n, null));
    }

    @Test
    void unknownRole() throws IOException {
        Path p = write("r.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
                + "{\"role\": \"bot\", \"content\": \"hello\"}]}");
        assertEquals(p + ":1: field \"messages[1].role\": unknown role \"bot\"; expected system, user or assistant",
                error(p, null));
    }

    @Test
    void malformedMessage() throws IOException {
        Path s = write("s.jsonl", "{\"messages\": [\"hi\"]}");
        assertEquals(s + ":1: field \"messages[0]\": expected a message {\"role\": ..., \"content\": ...}, got a "
                + "string", error(s, null));
        Path c = write("c.jsonl", "{\"messages\": [{\"role\": \"assistant\", \"content\": null}]}");
        assertEquals(c + ":1: field \"messages[0].content\": expected a string, got null", error(c, null));
        Path r = write("r.jsonl", "{\"messages\": [{\"content\": \"x\"}]}");
        assertEquals(r + ":1: field \"messages[0].role\": expected a string, got nothing (missing)", error(r, null));
    }

    @Test
    void conversationWithoutAssistantTurn() throws IOException {
        Path p = write("a.jsonl", "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, "
                + "{\"role\": \"user\", \"content\": \"u\"}]}");
        assertEquals(p + ":1: field \"messages\": no assistant turn; a training conversation needs at least one "
                + "message with \"role\": \"assistant\"", error(p, null));
    }

    @Test
    void nanAndInfinityNameTheirField() throws IOException {
        String pc = "{\"prompt\": \"p\", \"completion\": \"c\", \"score\": ";
        for (String bad : List.of("NaN", "Infinity", "-Infinity")) {
            Path p = write("nan.jsonl", pc + bad + "}");
            assertEquals(p + ":1: field \"score\": expected a finite number, got " + bad + " (JSON has no NaN or "
                    + "Infinity); write a finite number or leave the record out", error(p, null));
        }
        Path big = write("big.jsonl", pc + "1e999}");
        assertEquals(big + ":1: field \"score\": expected a finite number, got 1e999 (too large for a double); write "
                + "a finite number or leave the record out", error(big, null));
        // In a field no format reads, nested: the path says where.
        Path nested = write("nested.jsonl", "{\"text\": \"t\", \"meta\": {\"w\": [1, -Infinity]}}");
        assertEquals(nested + ":1: field \"meta.w[1]\": expected a finite number, got -Infinity (JSON has no NaN or "
                + "Infinity); write a finite number or leave the record out", error(nested, null));
    }

    private Path writeBytes(String name, byte[]... parts) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            b.writeBytes(part);
        }
        Path p = dir.resolve(name);
        Files.write(p, b.toByteArray());
        return p;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void invalidUtf8NamesLineBytesAndField() throws IOException {
        Path p = writeBytes("latin1.jsonl", utf8("{\"prompt\": \"p\", \"completion\": \"ok\"}\n"
                + "{\"prompt\": \"caf"), new byte[] {(byte) 0xE9}, utf8("\", \"completion\": \"c\"}\n"));
        assertEquals(p + ":2: field \"prompt\": invalid UTF-8 (bytes 0xE9 at byte "
                + (utf8("{\"prompt\": \"caf").length + 1) + " of the line); save the file as UTF-8", error(p, null));
        // Nested, after valid multi-byte characters (the byte offset counts bytes, the field is found by chars).
        String before = "{\"messages\": [{\"role\": \"user\", \"content\": \"wörld\"}, "
                + "{\"role\": \"assistant\", \"content\": \"x";
        Path m = writeBytes("nested.jsonl", utf8(before), new byte[] {(byte) 0xC3, (byte) 0x28}, utf8("\"}]}\n"));
        int at = utf8(before).length + 1; // 1-based byte of the bad one
        assertEquals(before.length() + 1 + 1, at); // one 2-byte character before it: the count is in bytes
        assertEquals(m + ":1: field \"messages[1].content\": invalid UTF-8 (bytes 0xC3 at byte " + at
                + " of the line); save the file as UTF-8", error(m, null));
        // In a key: the key, its bad bytes shown as U+FFFD.
        Path key = writeBytes("key.jsonl", utf8("{\"text\": \"t\", \"caf"), new byte[] {(byte) 0xE9}, utf8("\": 1}\n"));
        assertEquals(key + ":1: field \"caf\uFFFD\": invalid UTF-8 (bytes 0xE9 at byte "
                + (utf8("{\"text\": \"t\", \"caf").length + 1) + " of the line); save the file as UTF-8",
                error(key, null));
        // Bytes outside any string: the line and bytes, no field.
        Path out = writeBytes("out.jsonl", utf8("{\"text\": \"a\"} "), new byte[] {(byte) 0xFF}, utf8("\n"));
        assertEquals(out + ":1: invalid UTF-8 (bytes 0xFF at byte 15 of the line); save the file as UTF-8",
                error(out, null));
    }

    @Test
    void duplicateKeyNamesTheKey() throws IOException {
        Path p = write("d.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"prompt\": \"q\"}");
        assertEquals(p + ":1: field \"prompt\": duplicate key; an object holds each key once", error(p, null));
        Path m = write("m.jsonl",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"role\": \"assistant\"}]}");
        assertEquals(m + ":1: field \"messages[0].role\": duplicate key; an object holds each key once",
                error(m, null));
    }

    @Test
    void emptyFileIsAnError() throws IOException {
        Path empty = dir.resolve("empty.jsonl");
        Files.write(empty, new byte[0]);
        assertEquals(empty + ": no records: the file is empty or holds only blank lines; expected one JSON object "
                + "per line", error(empty, null));
        Path blank = dir.resolve("blank.jsonl");
        Files.writeString(blank, "\n  \r\n\t\n");
        assertEquals(blank + ": no records: the file is empty or holds only blank lines; expected one JSON object "
                + "per line", error(blank, DatasetFormat.TEXT));
        Path bom = dir.resolve("bom-only.jsonl");
        Files.write(bom, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        assertEquals(bom + ": no records: the file is empty or holds only blank lines; expected one JSON object "
                + "per line", error(bom, null));
    }

    @Test
    void syntaxErrorsAndNonObjects() throws IOException {
        Path p = write("s.jsonl", "{\"text\": \"a\"}", "{\"text\": \"b\",}");
        assertTrue(error(p, null).startsWith(p + ":2:14: invalid JSON: Unexpected character ('}' (code 125)):"),
                error(p, null));
        Path a = write("a.jsonl", "{\"text\": \"a\"}", "[\"text\"]");
        assertEquals(a + ":2: expected a JSON object ({\"field\": value, ...}), got an array", error(a, null));
    }

    @Test
    void skipMalformedSkipsAndCounts() throws IOException {
        Path p = writeBytes("mixed.jsonl", utf8("{\"prompt\": \"p1\", \"chosen\": \"a\", \"rejected\": \"b\"}\n" // 1
                + "{\"prompt\": \"p2\", \"chosen\": \"a\"}\n" // 2 missing rejected
                + "{\"prompt\": \"p3\", \"chosen\": \"a\", \"rejected\": \"b\", \"margin\": NaN}\n" // 3 NaN
                + "not json\n" // 4
                + "{\"prompt\": \"p5\", \"chosen\": \"a\", \"rejected\": \"b\", \"prompt\": \"x\"}\n" // 5 duplicate
                + "{\"prompt\": \"p6\", \"chosen\": \"x"), new byte[] {(byte) 0xE9}, // 6 bad byte
                utf8("\", \"rejected\": \"b\"}\n"
                        + "\n"
                        + "{\"prompt\": \"p8\", \"chosen\": \"c\", \"rejected\": \"d\", \"margin\": 1}\n")); // 8
        Examples r = datasets.read(p, null, true);
        List<PairwiseExample> xs = r.as(PairwiseExample.class);
        assertEquals(List.of("p1", "p8"), xs.stream().map(x -> x.prompt().text()).toList());
        assertEquals(List.of(1L, 8L), xs.stream().map(PairwiseExample::line).toList());
        assertEquals(5, r.skipped().size());
        assertEquals(p + ":2: field \"rejected\": expected a string (as in \"prompt\"), got nothing (missing)",
                r.skipped().get(0));
        assertEquals(p + ":3: field \"margin\": expected a finite number, got NaN (JSON has no NaN or Infinity); "
                + "write a finite number or leave the record out", r.skipped().get(1));
        assertTrue(r.skipped().get(2).startsWith(p + ":4:4: invalid JSON: Unrecognized token 'not'"),
                r.skipped().get(2));
        assertEquals(p + ":5: field \"prompt\": duplicate key; an object holds each key once", r.skipped().get(3));
        assertEquals(p + ":6: field \"chosen\": invalid UTF-8 (bytes 0xE9 at byte "
                + (utf8("{\"prompt\": \"p6\", \"chosen\": \"x").length + 1) + " of the line); save the file as UTF-8",
                r.skipped().get(4));
        r.skipped().forEach(StructuredDatasetsImplTest::clean);
        // Without skipping, the first one fails.
        assertEquals(r.skipped().get(0), error(p, null));
        // The settings route reads the same.
        Examples s = datasets.read(p, JsonlReaderTest.settings("format", "pairwise", "skip_malformed", true));
        assertEquals(DatasetFormat.PAIRWISE, s.format());
        assertEquals(r.skipped(), s.skipped());
        assertEquals(2, s.examples().size());
    }

    @Test
    void allRecordsSkippedIsAnError() throws IOException {
        Path p = write("bad.jsonl", "{\"text\": 1}", "{\"text\": 2}");
        DataException e = assertThrows(DataException.class, () -> datasets.read(p, null, true));
        assertEquals(p + ": no valid records: all 2 were malformed and skipped; the first: " + p
                + ":1: field \"text\": expected a string, got a number (1)", clean(e.getMessage()));
    }

    @Test
    void byteOrderMarkAndCrlfAreAccepted() throws IOException {
        Path p = writeBytes("bom.jsonl", new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                utf8("{\"prompt\": \"p\", \"completion\": \"a\"}\r\n\r\n"
                        + "{\"prompt\": \"q\", \"completion\": \"b\"}\r\n"));
        Examples r = read(p, null);
        assertEquals(DatasetFormat.PROMPT_COMPLETION, r.format()); // the BOM is not part of the first key
        List<PromptCompletionExample> xs = r.as(PromptCompletionExample.class);
        assertEquals(List.of("a", "b"), xs.stream().map(x -> x.completion().text()).toList()); // no \r left
        assertEquals(List.of(1L, 3L), xs.stream().map(PromptCompletionExample::line).toList());
        // The jsonl reader shares the rule.
        assertEquals("a", new JsonlReader().read(p, JsonlReaderTest.settings()).records().get(0).text("completion"));
    }

    @Test
    void unknownFieldsGiveOneWarningPerFile() throws IOException {
        Path p = write("u.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"id\": 1}",
                "{\"prompt\": \"p\", \"completion\": \"c\", \"id\": 2, \"source\": \"web\"}",
                "{\"prompt\": \"p\", \"completion\": \"c\", \"id\": 3}",
                "{\"prompt\": [{\"role\": \"user\", \"content\": \"u\", \"name\": \"ann\"}], "
                        + "\"completion\": [{\"role\": \"assistant\", \"content\": \"c\"}]}");
        Examples r = read(p, null);
        assertEquals(4, r.examples().size());
        assertEquals(List.of(p + ": fields a prompt-completion dataset does not read, ignored: \"id\" (3 records), "
                + "\"source\" (1 record), \"prompt[].name\" (1 record); it reads prompt, completion"), r.warnings());
        Path clean = write("clean.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\"}");
        assertEquals(List.of(), read(clean, null).warnings());
    }

    @Test
    void settingsAreChecked() throws IOException {
        Path p = write("t.jsonl", "{\"text\": \"a\"}");
        SettingsException e = assertThrows(SettingsException.class,
                () -> datasets.read(p, JsonlReaderTest.settings("format", "pairwize")));
        assertEquals("run.yaml: format: unknown dataset format \"pairwize\" (known: auto, text, prompt-completion, "
                + "conversational, pairwise, listwise, pointwise, process)", e.getMessage());
        SettingsException k = assertThrows(SettingsException.class,
                () -> datasets.validate(JsonlReaderTest.settings("formt", "text")));
        assertEquals("run.yaml: formt: unknown setting (accepted here: format, skip_malformed)", k.getMessage());
        datasets.validate(JsonlReaderTest.settings("format", "auto", "skip_malformed", false));
        assertEquals(DatasetFormat.TEXT, datasets.read(p, JsonlReaderTest.settings()).format());
    }

    @Test
    void examplesAreImmutable() throws IOException {
        Path p = write("lw.jsonl", "{\"prompt\": \"p\", \"completions\": [\"a\", \"b\"], \"ranking\": [1, 0]}");
        ListwiseExample x = read(p, null).as(ListwiseExample.class).get(0);
        x.ranking()[0] = 7;
        assertArrayEquals(new int[] {1, 0}, x.ranking());
        assertThrows(UnsupportedOperationException.class, () -> x.completions().add(Content.text("c")));
    }
}
