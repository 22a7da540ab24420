package org.align4j.pipeline.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongConsumer;

import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DataException;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.ReadResult;
import org.align4j.api.data.Record;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.pipeline.Settings;
import org.align4j.api.tokenizer.Tokenizer;
import org.align4j.api.tokenizer.TokenizerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Small but real implementations of the plugin contracts the pipeline itself calls. */
final class TestPlugins {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestPlugins() {
    }

    /** {@code count} documents {@code "doc <i> of <seed>"}. */
    static final class Numbered implements CorpusGenerator {
        final List<Settings> calls = new ArrayList<>();

        @Override
        public List<String> generate(Settings settings, long seed) {
            calls.add(settings);
            settings.checkKnown("count");
            int n = settings.getInt("count");
            List<String> docs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                docs.add("doc " + i + " of " + seed + (i % 7 == 0 ? " with \"quotes\"\nand a newline" : ""));
            }
            return docs;
        }
    }

    /** One JSON object per line; the {@code field} setting must hold a string. */
    static final class Jsonl implements DatasetReader {
        final List<Settings> calls = new ArrayList<>();

        @Override
        public ReadResult read(Path file, Settings settings) throws IOException {
            calls.add(settings);
            settings.checkKnown("skip_malformed", "field");
            boolean skip = settings.getBoolean("skip_malformed", false);
            String field = settings.getString("field", "text");
            List<Record> records = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    Object v;
                    try {
                        v = JSON.readValue(lines.get(i), Object.class);
                    } catch (JsonProcessingException e) {
                        throw new DataException(file.toString(), i + 1, "invalid JSON");
                    }
                    if (!(v instanceof Map)) {
                        throw new DataException(file.toString(), i + 1, "expected a JSON object");
                    }
                    @SuppressWarnings("unchecked")
                    Record r = new Record(file.toString(), i + 1, (Map<String, Object>) v);
                    r.text(field);
                    records.add(r);
                } catch (DataException e) {
                    if (!skip) {
                        throw e;
                    }
                    skipped.add(e.getMessage());
                }
            }
            return new ReadResult(records, skipped);
        }
    }

    /** No shuffling: the last {@code round(f * n)} items are validation (enough to see which split is used). */
    static final class TailSplit implements TextDatasets {
        @Override
        public <T> Split<T> split(List<T> items, double validationFraction, long seed) {
            int v = (int) Math.round(validationFraction * items.size());
            return new Split<>(items.subList(0, items.size() - v), items.subList(items.size() - v, items.size()));
        }

        @Override
        public <T> List<T> shuffle(List<T> items, long seed) {
            return new ArrayList<>(items);
        }

        @Override
        public int[][] pack(List<int[]> documents, int blockLength, int eosId) {
            List<Integer> stream = new ArrayList<>();
            for (int[] d : documents) {
                for (int t : d) {
                    stream.add(t);
                }
                stream.add(eosId);
            }
            int rows = stream.size() <= blockLength ? 0 : (stream.size() - 1) / blockLength;
            int[][] out = new int[rows][blockLength + 1];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c <= blockLength; c++) {
                    out[r][c] = stream.get(r * blockLength + c);
                }
            }
            return out;
        }
    }

    /** A character tokenizer: id 0 is end-of-text, then one id per distinct character of the training texts. */
    static final class Chars implements Tokenizer {
        final String alphabet;

        Chars(String alphabet) {
            this.alphabet = alphabet;
        }

        @Override
        public int[] encode(String text) {
            return text.chars().map(c -> alphabet.indexOf(c) + 1).toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) {
                if (id > 0) {
                    b.append(alphabet.charAt(id - 1));
                }
            }
            return b.toString();
        }

        @Override
        public int vocabSize() {
            return alphabet.length() + 1;
        }

        @Override
        public int eosId() {
            return 0;
        }

        @Override
        public int padId() {
            return 0;
        }

        @Override
        public String type() {
            return "chars";
        }

        @Override
        public void save(Path file) throws IOException {
            AtomicFiles.write(file, w -> w.write(JSON.writeValueAsString(Map.of("type", "chars", "alphabet",
                    alphabet))));
        }
    }

    static final class CharsFactory implements TokenizerFactory {
        final List<List<String>> trained = new ArrayList<>();
        final List<Settings> settings = new ArrayList<>();
        int loads;

        @Override
        public Tokenizer train(Iterable<String> corpus, Settings s, LongConsumer progress) {
            settings.add(s);
            List<String> texts = new ArrayList<>();
            TreeSet<Character> chars = new TreeSet<>();
            for (String t : corpus) {
                texts.add(t);
                for (char c : t.toCharArray()) {
                    chars.add(c);
                }
            }
            trained.add(texts);
            StringBuilder b = new StringBuilder();
            for (char c : chars) {
                b.append(c);
                progress.accept(b.length());
            }
            return new Chars(b.toString());
        }

        @Override
        public Tokenizer load(Path file) throws IOException {
            loads++;
            Map<?, ?> m = JSON.readValue(file.toFile(), Map.class);
            return new Chars((String) m.get("alphabet"));
        }
    }
}
