package org.align4j.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineFileTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void readsNestedSectionsAndListsWithTheirYamlTypes() throws IOException {
        Path f = write("p.yaml", String.join("\n",
                "run: { name: tiny, workdir: runs/tiny, seed: 7 }",
                "model: { layers: 2, d_model: 128, attention: mha }",
                "data:",
                "  generate: { name: arithmetic, count: 20000 }",
                "  validation_fraction: 0.05",
                "  skip_malformed: false",
                "  tags: [one]",
                "stages:",
                "  - trainer: pretrain",
                "    optimizer: { name: adamw, lr: 3.0e-4 }",
                "    eval: { every: 200, batches: 20 }",
                ""));
        Settings s = PipelineFile.read(f, Map.of());
        assertEquals(f.toString(), s.source());
        assertEquals(List.of("run", "model", "data", "stages"), List.copyOf(s.keys()));
        assertEquals("tiny", s.section("run").getString("name"));
        assertEquals(7L, s.section("run").getLong("seed"));
        assertEquals(7, s.section("run").asMap().get("seed")); // YAML's Integer, kept as read
        assertEquals(0.05, s.section("data").getDouble("validation_fraction"));
        assertEquals(Boolean.FALSE, s.section("data").asMap().get("skip_malformed"));
        // a list of ONE entry stays a list (Commons Configuration's node model alone would lose that)
        assertEquals(List.of("one"), s.section("data").asMap().get("tags"));
        List<Settings> stages = s.sections("stages");
        assertEquals(1, stages.size());
        assertEquals("stages[0]", stages.get(0).path());
        Settings opt = stages.get(0).section("optimizer");
        assertEquals("stages[0].optimizer", opt.path());
        assertEquals(3.0e-4, opt.getDouble("lr"), 0.0);
        assertEquals(20, stages.get(0).section("eval").getInt("batches"));
    }

    @Test
    void listsOfSectionsAndNestedListsConvertToPlainJavaValues() throws IOException {
        Path f = write("p.yaml", String.join("\n",
                "stages:",
                "  - trainer: a",
                "    list: [1, 2.5, true, null, x]",
                "    nested: [[1, 2], {k: v}]",
                "  - trainer: b",
                "empty: []",
                "nothing:",
                ""));
        Settings s = PipelineFile.read(f, Map.of());
        List<Settings> stages = s.sections("stages");
        assertEquals(2, stages.size());
        assertEquals("b", stages.get(1).getString("trainer"));
        List<?> list = (List<?>) stages.get(0).asMap().get("list");
        assertEquals(5, list.size());
        assertEquals(1, list.get(0));
        assertEquals(2.5, list.get(1));
        assertEquals(true, list.get(2));
        assertEquals(null, list.get(3));
        assertEquals("x", list.get(4));
        List<?> nested = (List<?>) stages.get(0).asMap().get("nested");
        assertEquals(List.of(1, 2), nested.get(0));
        assertEquals(Map.of("k", "v"), nested.get(1));
        assertEquals(List.of(), s.asMap().get("empty"));
        assertFalse(s.has("nothing"));
        assertTrue(s.keys().contains("nothing"));
        // read-only all the way down
        assertThrows(UnsupportedOperationException.class, () -> list.add(null));
    }

    @Test
    void interpolatesSystemPropertiesEnvironmentAndOtherKeys() throws IOException {
        String env = System.getenv().containsKey("HOME") ? "HOME" : System.getenv().keySet().iterator().next();
        System.setProperty("align4j.test.base", "/data/base");
        try {
            Path f = write("p.yaml", String.join("\n",
                    "run:",
                    "  name: tiny",
                    "  workdir: ${sys:align4j.test.base}/runs/${run.name}",
                    "  home: ${env:" + env + "}",
                    "  cwd: ${sys:user.dir}",
                    "  fallback: ${env:ALIGN4J_SURELY_UNSET_VARIABLE:-/tmp/x}",
                    "  literal: $${sys:user.dir}",
                    ""));
            Settings run = PipelineFile.read(f, Map.of()).section("run");
            assertEquals("/data/base/runs/tiny", run.getString("workdir"));
            assertEquals(System.getenv(env), run.getString("home"));
            assertEquals(System.getProperty("user.dir"), run.getString("cwd"));
            assertEquals("/tmp/x", run.getString("fallback"));
            assertEquals("${sys:user.dir}", run.getString("literal"));
        } finally {
            System.clearProperty("align4j.test.base");
        }
    }

    @Test
    void anUndefinedVariableNamesTheKeyAndTheVariable() throws IOException {
        Path f = write("p.yaml", "run:\n  workdir: ${env:ALIGN4J_SURELY_UNSET_VARIABLE}/runs\n");
        SettingsException e = assertThrows(SettingsException.class, () -> PipelineFile.read(f, Map.of()));
        assertEquals("run.workdir", e.key());
        assertTrue(e.getMessage().startsWith(f + ": run.workdir: ${env:ALIGN4J_SURELY_UNSET_VARIABLE} is not defined"
                + " (no environment variable ALIGN4J_SURELY_UNSET_VARIABLE)"), e.getMessage());
    }

    @Test
    void overridesReplaceValuesAndAreTyped() throws IOException {
        Path f = write("p.yaml", String.join("\n",
                "run: { name: tiny }",
                "stages:",
                "  - trainer: pretrain",
                "    steps: 2000",
                "    optimizer: { name: adamw, lr: 3.0e-4 }",
                ""));
        Map<String, String> o = new LinkedHashMap<>();
        o.put("stages[0].steps", "10");
        o.put("stages[0].optimizer.lr", "1e-3");
        o.put("data.skip_malformed", "true");
        o.put("run.name", "try2");
        o.put("run.note", "'42'");
        o.put("run.workdir", "runs/${run.name}");
        Settings s = PipelineFile.read(f, o);
        Settings st = s.sections("stages").get(0);
        assertEquals(10, st.asMap().get("steps"));
        assertEquals(1e-3, st.section("optimizer").asMap().get("lr"));
        assertEquals(Boolean.TRUE, s.section("data").asMap().get("skip_malformed"));
        assertEquals("try2", s.section("run").getString("name"));
        assertEquals("42", s.section("run").asMap().get("note"));
        // interpolation sees the overridden value
        assertEquals("runs/try2", s.section("run").getString("workdir"));
    }

    @Test
    void anOverrideOutOfRangeSaysWhy() throws IOException {
        Path f = write("p.yaml", "stages:\n  - trainer: pretrain\n");
        SettingsException e = assertThrows(SettingsException.class,
                () -> PipelineFile.read(f, Map.of("stages[3].steps", "10")));
        assertEquals(f + ": override stages[3].steps=10: stages has 1 entry, so [3] is out of range"
                + " (use 0..0, or 1 to append one)", e.getMessage());
        SettingsException e2 = assertThrows(SettingsException.class,
                () -> PipelineFile.read(f, Map.of("stages[0].trainer.x", "1")));
        assertTrue(e2.getMessage().endsWith("stages[0].trainer is a value, not a section, so it has no key \"x\""),
                e2.getMessage());
    }

    @Test
    void aYamlSyntaxErrorPointsAtLineAndColumn() throws IOException {
        Path f = write("bad.yaml", String.join("\n",
                "run:",
                "  name: tiny",
                "model: { layers: 2, d_model: 128",
                "data:",
                "  field: text",
                ""));
        SettingsException e = assertThrows(SettingsException.class, () -> PipelineFile.read(f, Map.of()));
        String first = e.getMessage().lines().findFirst().orElseThrow();
        assertTrue(first.matches(java.util.regex.Pattern.quote(f.toString()) + ":\\d+:\\d+: .+"), first);
        assertTrue(first.startsWith(f + ":4:5: "), first);
        assertFalse(e.getMessage().contains("Unable to load the configuration"), e.getMessage());
    }

    @Test
    void aBadIndentationIsReportedWhereSnakeYamlFindsIt() throws IOException {
        Path f = write("indent.yaml", "run:\n  name: tiny\n   seed: 7\n");
        SettingsException e = assertThrows(SettingsException.class, () -> PipelineFile.read(f, Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":3:8: mapping values are not allowed here"), e.getMessage());
    }

    @Test
    void duplicateKeysAreAnError() throws IOException {
        Path f = write("dup.yaml", "run:\n  name: a\nrun:\n  name: b\n");
        SettingsException e = assertThrows(SettingsException.class, () -> PipelineFile.read(f, Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":3:1: found duplicate key run"), e.getMessage());
    }

    @Test
    void emptyMissingAndNonMapFilesSayWhatIsWrong() throws IOException {
        Path empty = write("empty.yaml", "# nothing\n");
        assertEquals(empty + ": the file is empty; a pipeline needs at least run: and stages:",
                assertThrows(SettingsException.class, () -> PipelineFile.read(empty, Map.of())).getMessage());
        Path list = write("list.yaml", "- a\n- b\n");
        assertTrue(assertThrows(SettingsException.class, () -> PipelineFile.read(list, Map.of())).getMessage()
                .startsWith(list + ": the top level must be key: value pairs"));
        Path missing = dir.resolve("missing.yaml");
        assertTrue(assertThrows(SettingsException.class, () -> PipelineFile.read(missing, Map.of())).getMessage()
                .startsWith(missing + ": no such file"));
    }

    @Test
    void invalidUtf8NamesTheLineColumnAndBytes() throws Exception {
        Path f = dir.resolve("latin1.yaml");
        byte[] head = "run: { name: x }\nmodel: { layers: 2 }\n# caf".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] tail = " au lait\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(head);
        b.write(0xE9); // é in Latin-1: not UTF-8
        b.write(tail);
        java.nio.file.Files.write(f, b.toByteArray());
        org.align4j.api.pipeline.SettingsException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.align4j.api.pipeline.SettingsException.class, () -> PipelineFile.read(f, java.util.Map.of()));
        org.junit.jupiter.api.Assertions.assertEquals(f + ":3:6: invalid UTF-8 (bytes 0xE9); save the file as UTF-8",
                e.getMessage());
    }

    @Test
    void anAliasBombAndAHugeFileAreRefusedQuicklyWithoutExpandingThem() throws IOException {
        // "billion laughs": nine levels of nine aliases would expand to 9^9 (387 million) strings
        StringBuilder bomb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < 10; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) {
                bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            bomb.append("]\n");
        }
        Path f = write("bomb.yaml", bomb.toString());
        long t0 = System.nanoTime();
        SettingsException e = assertThrows(SettingsException.class, () -> PipelineFile.read(f, Map.of()));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(f + ": more than 20 aliases (*name) of lists or sections; a pipeline file may use at most 20,"
                + " since each copies the whole node it names (nested, they multiply: an alias bomb)", e.getMessage());
        assertTrue(ms < 5_000, "took " + ms + " ms");

        Path huge = dir.resolve("huge.yaml");
        try (java.io.Writer w = Files.newBufferedWriter(huge)) {
            w.write("run: { name: tiny }\nnotes: |\n");
            String line = "  " + "x".repeat(100) + "\n";
            for (int i = 0; i < 12_000; i++) { // 29 + 12,000 * 103 bytes
                w.write(line);
            }
        }
        assertEquals(huge + ": the file has 1,236,029 bytes; a pipeline file is at most 1,048,576 bytes (it names its"
                + " data files, it does not hold the data)", assertThrows(SettingsException.class,
                        () -> PipelineFile.read(huge, Map.of())).getMessage());
    }
}
