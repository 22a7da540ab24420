package org.align4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;

import org.align4j.api.data.Content;
import org.align4j.api.data.ConversationalExample;
import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetFormat;
import org.align4j.api.data.Example;
import org.align4j.api.data.Examples;
import org.align4j.api.data.ListwiseExample;
import org.align4j.api.data.PairwiseExample;
import org.align4j.api.data.PointwiseExample;
import org.align4j.api.data.ProcessExample;
import org.align4j.api.data.PromptCompletionExample;
import org.align4j.api.data.StructuredDatasets;
import org.align4j.api.data.TextExample;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * Reads TRL's JSONL formats into typed examples, record by record, as {@link StructuredDatasets} specifies. The line
 * checks (UTF-8, BOM, CRLF, JSON syntax, duplicate keys, NaN/Infinity) are {@link JsonlFile}'s, shared with the
 * {@code jsonl} {@link JsonlReader}; the field checks are {@link RecordFields}'.
 *
 * <p>Format detection looks at the keys of the first record that parses as an object ({@link DatasetFormat#detect});
 * keys that fit no format fail the read, even when skipping malformed records (a file-level error). A file whose
 * every record was skipped fails too: there is nothing to train on.
 */
@Component(service = StructuredDatasets.class)
public final class StructuredDatasetsImpl implements StructuredDatasets {

    private static final String AUTO = "auto";

    @Override
    public void validate(Settings settings) {
        format(settings);
        settings.getBoolean(SKIP_MALFORMED, false);
    }

    /** The format the settings name, {@code null} for {@code auto}. */
    private static DatasetFormat format(Settings settings) {
        settings.checkKnown(FORMAT, SKIP_MALFORMED);
        String name = settings.getString(FORMAT, AUTO);
        if (name.equals(AUTO)) {
            return null;
        }
        DatasetFormat f = DatasetFormat.byName(name);
        if (f == null) {
            throw settings.error(FORMAT, "unknown dataset format \"" + name + "\" (known: " + AUTO + ", "
                    + DatasetFormat.names() + ")");
        }
        return f;
    }

    @Override
    public Examples read(Path file, Settings settings) throws IOException {
        DatasetFormat format = format(settings);
        return read(file, format, settings.getBoolean(SKIP_MALFORMED, false));
    }

    @Override
    public Examples read(Path file, DatasetFormat given, boolean skipMalformed) throws IOException {
        Objects.requireNonNull(file, "file");
        String source = file.toString();
        List<Example> examples = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Map<String, Long> unknown = new LinkedHashMap<>();
        DatasetFormat[] format = {given};
        long nonBlank = JsonlFile.read(file, skipMalformed, skipped, (src, line, fields) -> {
            if (format[0] == null) {
                format[0] = DatasetFormat.detect(fields.keySet());
                if (format[0] == null) {
                    throw new JsonlFile.FileError(src, line, "cannot tell the dataset format from the fields "
                            + quoted(fields.keySet()) + "; expected the fields of one of: " + formats()
                            + "; or name the format (format: ...)");
                }
            }
            Set<String> unknownHere = new LinkedHashSet<>();
            for (String key : fields.keySet()) {
                if (!format[0].fields().contains(key)) {
                    unknownHere.add(key);
                }
            }
            examples.add(example(format[0], new RecordFields(src, line, fields, unknownHere)));
            for (String key : unknownHere) {
                unknown.merge(key, 1L, Long::sum);
            }
        });
        if (nonBlank == 0) {
            throw new DataException(source, 0, "no records: the file is empty or holds only blank lines; expected "
                    + "one JSON object per line");
        }
        if (examples.isEmpty()) {
            throw new DataException(source, 0, "no valid records: all " + skipped.size()
                    + " were malformed and skipped; the first: " + skipped.get(0));
        }
        List<String> warnings = new ArrayList<>();
        if (!unknown.isEmpty()) {
            List<String> list = new ArrayList<>();
            unknown.forEach((k, n) -> list.add("\"" + k + "\" (" + n + (n == 1 ? " record)" : " records)")));
            warnings.add(source + ": fields a " + format[0] + " dataset does not read, ignored: "
                    + String.join(", ", list) + "; it reads " + String.join(", ", format[0].fields()));
        }
        return new Examples(source, format[0], examples, skipped, warnings);
    }

    private static Example example(DatasetFormat format, RecordFields r) {
        String src = r.source();
        long line = r.line();
        switch (format) {
            case TEXT:
                return new TextExample(src, line, r.string("text"));
            case PROMPT_COMPLETION:
                return new PromptCompletionExample(src, line, r.content("prompt", false),
                        r.content("completion", true));
            case CONVERSATIONAL:
                return new ConversationalExample(src, line, r.messages("messages", true));
            case PAIRWISE: {
                Content prompt = r.present("prompt") ? r.content("prompt", false) : null;
                Content chosen = r.content("chosen", true);
                Content rejected = r.content("rejected", true);
                if (prompt == null) { // TRL's implicit prompt: the completions hold it
                    prompt = chosen.isConversational() ? Content.messages(List.of()) : Content.text("");
                }
                OptionalDouble margin = r.has("margin") ? OptionalDouble.of(r.number("margin"))
                        : OptionalDouble.empty();
                return new PairwiseExample(src, line, prompt, chosen, rejected, margin);
            }
            case LISTWISE: {
                Content prompt = r.content("prompt", false);
                List<Content> completions = r.completions("completions");
                return new ListwiseExample(src, line, prompt, completions,
                        r.ranking("ranking", completions.size(), "completions"));
            }
            case POINTWISE:
                return new PointwiseExample(src, line, r.content("prompt", false), r.content("completion", true),
                        r.number("score"));
            case PROCESS: {
                String prompt = r.string("prompt");
                List<String> steps = r.strings("completions", "steps (strings)");
                return new ProcessExample(src, line, prompt, steps, r.labels("labels", steps.size(), "completions"));
            }
            default:
                throw new IllegalStateException("no reader for format " + format);
        }
    }

    private static String quoted(Set<String> keys) {
        if (keys.isEmpty()) {
            return "(none: the object is empty)";
        }
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            out.add("\"" + k + "\"");
        }
        return String.join(", ", out);
    }

    private static String formats() {
        List<String> out = new ArrayList<>();
        for (DatasetFormat f : DatasetFormat.values()) {
            out.add(f + " (" + String.join(", ", f.fields()) + ")");
        }
        return String.join(", ", out);
    }
}
