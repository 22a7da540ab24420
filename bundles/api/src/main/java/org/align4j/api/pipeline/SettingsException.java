package org.align4j.api.pipeline;

/**
 * A setting is missing, has the wrong type, or is out of range. The message names the file and the key path,
 * e.g. {@code examples/pretrain.yaml: stages[0].optimizer.lr: expected a number, got "fast"}.
 */
public class SettingsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String key;

    public SettingsException(String source, String key, String problem) {
        super(format(source, key, problem));
        this.source = source;
        this.key = key;
    }

    private static String format(String source, String key, String problem) {
        StringBuilder b = new StringBuilder();
        if (source != null && !source.isEmpty()) {
            b.append(source).append(": ");
        }
        if (key != null && !key.isEmpty()) {
            b.append(key).append(": ");
        }
        return b.append(problem).toString();
    }

    /** The file (or other origin) the setting came from; may be empty. */
    public String source() {
        return source;
    }

    /** The full key path of the setting, e.g. {@code stages[0].optimizer.lr}. */
    public String key() {
        return key;
    }
}
