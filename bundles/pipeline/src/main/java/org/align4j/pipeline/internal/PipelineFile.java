package org.align4j.pipeline.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.align4j.api.pipeline.Settings;
import org.align4j.api.pipeline.SettingsException;
import org.apache.commons.configuration2.YAMLConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.interpol.ConfigurationInterpolator;
import org.apache.commons.configuration2.io.FileHandler;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a pipeline file with Commons Configuration's {@link YAMLConfiguration} (through a {@link FileHandler}, so no
 * configuration builder and no commons-beanutils), applies overrides, interpolates every string with the
 * configuration's default interpolator ({@code ${env:HOME}}, {@code ${sys:user.dir}}, {@code ${run.name}}, ...) and
 * returns the file as nested maps and lists of plain values wrapped in {@link Settings}.
 *
 * <p>Commons Configuration keeps YAML lists only as repeated nodes, so a list of one entry would read back as a
 * single value. The structure is therefore taken from the YAML document itself (captured when the configuration
 * loads it) and only the values go through the interpolator.
 */
public final class PipelineFile {
    /** {@code ${name}} not preceded by the escape character {@code $}, without nested variables. */
    private static final Pattern VARIABLE = Pattern.compile("(?<!\\$)\\$\\{([^${}]*)}");

    private PipelineFile() {
    }

    /**
     * @param file the pipeline file; its name as given is the source named in every error
     * @param overrides {@code key path -> value} (see {@link Overrides})
     * @throws SettingsException when the file is missing, is not valid YAML ({@code file:line:column: problem}),
     *         an override does not apply, or a variable cannot be resolved
     */
    public static Settings read(Path file, Map<String, String> overrides) {
        String source = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new SettingsException(source, "", Files.exists(file) ? "not a regular file"
                    : "no such file (relative paths are resolved against the working directory "
                            + Path.of("").toAbsolutePath() + ")");
        }
        checkSize(file, source);
        checkUtf8(file, source);
        CapturingYaml config = new CapturingYaml(source, overrides);
        FileHandler handler = new FileHandler(config);
        handler.setEncoding("UTF-8");
        try {
            handler.load(file.toFile());
        } catch (ConfigurationException | RuntimeException e) {
            throw translate(source, e);
        }
        if (config.tree == null) {
            throw new SettingsException(source, "", "the file holds no YAML document");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) interpolate(config.tree, "", config.getInterpolator(),
                source);
        return Settings.of(source, values);
    }

    /** The largest pipeline file read: pipelines name their data files, they do not hold them. */
    static final int MAX_BYTES = 1 << 20;
    /** The most aliases of lists and sections a file may use (each expands the whole node it names). */
    static final int MAX_COLLECTION_ALIASES = 20;

    /** Refuses a file larger than {@link #MAX_BYTES} before reading any of it. */
    static void checkSize(Path file, String source) {
        long size;
        try {
            size = Files.size(file);
        } catch (java.io.IOException e) {
            throw new SettingsException(source, "", "cannot read the file: " + Texts.message(e));
        }
        if (size > MAX_BYTES) {
            throw new SettingsException(source, "", "the file has " + String.format(java.util.Locale.ROOT, "%,d",
                    size) + " bytes; a pipeline file is at most " + String.format(java.util.Locale.ROOT, "%,d",
                    MAX_BYTES) + " bytes (it names its data files, it does not hold the data)");
        }
    }

    /**
     * Fails naming the line and the bytes of the first sequence that is not UTF-8 (SnakeYAML would report a Java
     * exception instead).
     */
    static void checkUtf8(Path file, String source) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new SettingsException(source, "", "cannot read the file: " + Texts.message(e));
        }
        java.nio.charset.CharsetDecoder decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
        java.nio.charset.CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            return;
        }
        int at = in.position();
        int line = 1;
        int column = 1;
        for (int i = 0; i < at; i++) {
            if (bytes[i] == '\n') {
                line++;
                column = 1;
            } else if ((bytes[i] & 0xC0) != 0x80) {
                column++;
            }
        }
        StringBuilder hex = new StringBuilder();
        for (int i = at; i < Math.min(bytes.length, at + Math.max(1, r.length())); i++) {
            hex.append(hex.length() == 0 ? "" : " ").append(String.format("0x%02X", bytes[i] & 0xff));
        }
        throw new SettingsException(source + ":" + line + ":" + column, "", "invalid UTF-8 (bytes " + hex
                + "); save the file as UTF-8");
    }

    /** The error a user should see for a failed load: SnakeYAML's position and problem, or ours. */
    static SettingsException translate(String source, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SettingsException) {
                return (SettingsException) t;
            }
            if (t instanceof MarkedYAMLException) {
                return yamlError(source, (MarkedYAMLException) t);
            }
            if (t instanceof ClassCastException) {
                return new SettingsException(source, "", "the top level must be key: value pairs"
                        + " (run:, model:, data:, stages:), not a single value or a list");
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof YAMLException && String.valueOf(t.getMessage()).startsWith("Number of aliases")) {
                return new SettingsException(source, "", "more than " + MAX_COLLECTION_ALIASES + " aliases (*name) of"
                        + " lists or sections; a pipeline file may use at most " + MAX_COLLECTION_ALIASES + ", since"
                        + " each copies the whole node it names (nested, they multiply: an alias bomb)");
            }
            if (t instanceof YAMLException) {
                return new SettingsException(source, "", "not valid YAML: " + Texts.message(t));
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new SettingsException(source, "", "cannot read the file: " + Texts.message(root));
    }

    private static SettingsException yamlError(String source, MarkedYAMLException y) {
        Mark m = y.getProblemMark() != null ? y.getProblemMark() : y.getContextMark();
        String problem = y.getProblem() != null ? y.getProblem() : y.getContext();
        StringBuilder b = new StringBuilder(problem == null ? "not valid YAML" : problem);
        if (y.getContext() != null && y.getProblem() != null) {
            b.append(" (").append(y.getContext());
            Mark c = y.getContextMark();
            if (c != null && m != null && c.getLine() != m.getLine()) {
                b.append(" at line ").append(c.getLine() + 1).append(", column ").append(c.getColumn() + 1);
            }
            b.append(')');
        }
        String where = m == null ? source : source + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1);
        String snippet = m == null ? null : m.get_snippet(4, 100);
        if (snippet != null && !snippet.isBlank()) {
            b.append('\n').append(snippet);
        }
        return new SettingsException(where, "", b.toString());
    }

    /** Interpolates every string of the tree and returns it read-only; {@code path} is for errors. */
    private static Object interpolate(Object value, String path, ConfigurationInterpolator ci, String source) {
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) value).forEach((k, v) -> {
                String key = String.valueOf(k);
                out.put(key, interpolate(v, path.isEmpty() ? key : path + "." + key, ci, source));
            });
            return Collections.unmodifiableMap(out);
        }
        if (value instanceof List) {
            List<Object> out = new ArrayList<>();
            List<?> in = (List<?>) value;
            for (int i = 0; i < in.size(); i++) {
                out.add(interpolate(in.get(i), path + "[" + i + "]", ci, source));
            }
            return Collections.unmodifiableList(out);
        }
        if (value instanceof String) {
            String s = (String) value;
            if (s.indexOf("${") < 0) {
                return s;
            }
            checkResolvable(s, path, ci, source);
            Object r = ci.interpolate(s);
            return r instanceof String || r == null ? r : plain(r);
        }
        return value;
    }

    private static void checkResolvable(String s, String path, ConfigurationInterpolator ci, String source) {
        Matcher m = VARIABLE.matcher(s);
        while (m.find()) {
            String var = m.group(1);
            if (var.contains(":-")) {
                continue; // has a default value
            }
            Object v;
            try {
                v = ci.resolve(var);
            } catch (RuntimeException e) {
                throw new SettingsException(source, path, "cannot resolve ${" + var + "}: " + Texts.message(e));
            }
            if (v == null) {
                throw new SettingsException(source, path, "${" + var + "} is not defined (" + explain(var)
                        + "); define it, give a default as ${" + var + ":-value}, or write $${...} for a literal");
            }
        }
    }

    private static String explain(String var) {
        int colon = var.indexOf(':');
        String prefix = colon < 0 ? "" : var.substring(0, colon);
        String name = colon < 0 ? var : var.substring(colon + 1);
        switch (prefix) {
            case "":
                return "no key " + name + " in this file";
            case "env":
                return "no environment variable " + name;
            case "sys":
                return "no system property " + name;
            default:
                return "lookup \"" + prefix + "\" found nothing for " + name;
        }
    }

    /**
     * A YAML value as plain data: maps with string keys (order kept), lists, strings, numbers, booleans, null.
     * Timestamps become ISO-8601 strings, binary becomes base64, sets become lists.
     */
    static Object plain(Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) v).forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        if (v instanceof Collection) {
            List<Object> out = new ArrayList<>();
            for (Object x : (Collection<?>) v) {
                out.add(plain(x));
            }
            return out;
        }
        if (v instanceof Date) {
            return DateTimeFormatter.ISO_INSTANT.format(((Date) v).toInstant().atOffset(ZoneOffset.UTC));
        }
        if (v instanceof byte[]) {
            return Base64.getEncoder().encodeToString((byte[]) v);
        }
        return String.valueOf(v);
    }

    /**
     * A YAML configuration that keeps the document it loads (as mutable plain data, overrides applied) and rejects
     * duplicate keys, which SnakeYAML would otherwise let the last one win silently.
     */
    private static final class CapturingYaml extends YAMLConfiguration {
        private final String source;
        private final Map<String, String> overrides;
        Map<String, Object> tree;

        CapturingYaml(String source, Map<String, String> overrides) {
            this.source = source;
            this.overrides = overrides;
        }

        @Override
        public void read(java.io.Reader in) throws ConfigurationException {
            read(in, options());
        }

        @Override
        public void read(java.io.InputStream in) throws ConfigurationException {
            read(in, options()); // FileHandler reads through this one (InputStreamSupport)
        }

        private static LoaderOptions options() {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            // an alias bomb (aliases of aliases of lists, "billion laughs") is refused while it is parsed, before it
            // expands; recursive keys and deep nesting likewise
            options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES);
            options.setAllowRecursiveKeys(false);
            options.setNestingDepthLimit(64);
            options.setCodePointLimit(MAX_BYTES);
            return options;
        }

        @Override
        @SuppressWarnings("unchecked")
        protected void load(Map<String, Object> map) {
            if (map == null) {
                throw new SettingsException(source, "", "the file is empty; a pipeline needs at least run: and"
                        + " stages:");
            }
            Map<String, Object> copy = (Map<String, Object>) plain(map);
            Overrides.apply(copy, overrides, source);
            tree = copy;
            super.load(copy);
        }
    }
}
