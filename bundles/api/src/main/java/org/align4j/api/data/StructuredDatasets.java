package org.align4j.api.data;

import java.io.IOException;
import java.nio.file.Path;

import org.align4j.api.pipeline.Settings;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Reads JSONL datasets in TRL's formats ({@link DatasetFormat}) into typed {@link Example}s, checking every record.
 *
 * <p>A malformed record fails the read with a {@link DataException} whose message says where and what:
 * {@code data/train.jsonl:1042: field "chosen": expected a string, got null}; with {@code skip_malformed} it is
 * left out and listed in {@link Examples#skipped()}. Invalid UTF-8 (naming the bytes and the field that holds them),
 * {@code NaN} and {@code Infinity} (naming the field), duplicate keys, wrong types, missing fields, empty lists, a
 * ranking that is not a permutation, labels that do not match the steps and unknown roles are all malformed records.
 * A file with no records is an error. A UTF-8 byte order mark and CRLF line ends are accepted. Fields no format reads
 * give one warning per file ({@link Examples#warnings()}).
 */
@ProviderType
public interface StructuredDatasets {

    /** Setting: the format's TRL name ({@code pairwise}, ...), or {@code auto} (the default) to detect it. */
    String FORMAT = "format";
    /** Setting: skip malformed records (listing them) rather than fail; default false. */
    String SKIP_MALFORMED = "skip_malformed";

    /**
     * Reads {@code file} as {@code format}, or, when {@code format} is {@code null}, as the format the first record's
     * keys show ({@link DatasetFormat#detect}).
     *
     * @throws DataException a malformed record (unless skipped), an empty file, or a first record whose keys fit no
     *         format
     * @throws IOException the file cannot be read (the message names it)
     */
    Examples read(Path file, DatasetFormat format, boolean skipMalformed) throws IOException;

    /** Reads {@code file} with settings {@code format} and {@code skip_malformed}. */
    Examples read(Path file, Settings settings) throws IOException;

    /** Checks settings (unknown keys, an unknown format name) the way {@link #read(Path, Settings)} reads them. */
    void validate(Settings settings);
}
