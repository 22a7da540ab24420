package org.align4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.DatasetReaderService;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code text} format: plain UTF-8 text cut into documents, each a {@link Record} with one string field.
 *
 * <p>Settings:
 * <ul>
 * <li>{@code split}: {@code line} (default; each line is a document), {@code paragraph} (documents are separated by
 * blank lines; a paragraph's lines are joined with {@code \n}), or {@code file} (the whole file is one document,
 * its lines joined with {@code \n}, without a final newline).</li>
 * <li>{@code field} (default {@code text}): the name of the record's field.</li>
 * <li>{@code skip_malformed} (default false): a line that is not UTF-8 fails the read; when true it is left out
 * and listed in {@link ReadResult#skipped()}.</li>
 * </ul>
 * Empty and whitespace-only documents are dropped; text is otherwise kept as written (CRLF reads as LF). A record's
 * line is the line its document starts on.
 */
@Component(service = DatasetReader.class)
@DatasetReaderService(name = "text")
public final class TextReader implements DatasetReader {

    static final String SPLIT = "split";

    @Override
    public void validate(Settings settings) {
        split(settings);
        ReaderSettings.field(settings);
        settings.getBoolean(ReaderSettings.SKIP_MALFORMED, false);
    }

    /** How the text is cut into documents; checks the keys as it reads them. */
    private static String split(Settings settings) {
        settings.checkKnown(SPLIT, ReaderSettings.FIELD, ReaderSettings.SKIP_MALFORMED);
        String split = settings.getString(SPLIT, "line");
        if (!split.equals("line") && !split.equals("paragraph") && !split.equals("file")) {
            throw settings.error(SPLIT, "expected line, paragraph or file, got \"" + split + "\"");
        }
        return split;
    }

    @Override
    public ReadResult read(Path file, Settings settings) throws IOException {
        String split = split(settings);
        String field = ReaderSettings.field(settings);
        boolean skip = settings.getBoolean(ReaderSettings.SKIP_MALFORMED, false);
        boolean byLine = split.equals("line");
        boolean byParagraph = split.equals("paragraph");

        List<Record> records = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try (Utf8Lines lines = Utf8Lines.open(file)) {
            StringBuilder doc = new StringBuilder();
            long docLine = 0;
            while (true) {
                String text;
                try {
                    text = lines.next();
                } catch (DataException e) {
                    if (!skip) {
                        throw e;
                    }
                    skipped.add(e.getMessage());
                    continue;
                }
                if (text == null) {
                    break;
                }
                if (byLine) {
                    add(records, lines.name(), lines.lineNumber(), field, text);
                } else if (byParagraph) {
                    if (text.isBlank()) {
                        add(records, lines.name(), docLine, field, doc.toString());
                        doc.setLength(0);
                    } else {
                        if (doc.length() == 0) {
                            docLine = lines.lineNumber();
                        } else {
                            doc.append('\n');
                        }
                        doc.append(text);
                    }
                } else { // the whole file
                    if (docLine == 0) {
                        docLine = lines.lineNumber();
                    } else {
                        doc.append('\n');
                    }
                    doc.append(text);
                }
            }
            if (!byLine) {
                add(records, lines.name(), docLine, field, doc.toString());
            }
        }
        return new ReadResult(records, skipped);
    }

    private static void add(List<Record> records, String source, long line, String field, String text) {
        if (!text.isBlank()) {
            records.add(new Record(source, line, Map.of(field, text)));
        }
    }
}
