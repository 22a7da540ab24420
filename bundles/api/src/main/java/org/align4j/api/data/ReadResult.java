package org.align4j.api.data;

import java.util.List;

/**
 * The records a {@link DatasetReader} read, and the malformed lines it skipped (when told to skip rather than fail),
 * each as {@code file:line: what is wrong}. A run's summary reports the skipped count.
 */
public final class ReadResult {
    private final List<Record> records;
    private final List<String> skipped;

    public ReadResult(List<Record> records, List<String> skipped) {
        this.records = List.copyOf(records);
        this.skipped = List.copyOf(skipped);
    }

    public List<Record> records() {
        return records;
    }

    public List<String> skipped() {
        return skipped;
    }
}
