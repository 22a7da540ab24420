package org.align4j.api.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The JSONL dataset formats of TRL, by the names TRL gives them, with the fields a record of each holds and the
 * {@link Example} class it reads into. Required fields come first in {@link #fields()}, optional ones after.
 */
public enum DatasetFormat {
    /** {@code {"text": "..."}}: a document (pretraining). */
    TEXT("text", TextExample.class, List.of("text"), List.of()),
    /** {@code {"prompt": "...", "completion": "..."}}: supervised fine-tuning on the completion. */
    PROMPT_COMPLETION("prompt-completion", PromptCompletionExample.class, List.of("prompt", "completion"), List.of()),
    /** {@code {"messages": [{"role": "user", "content": "..."}, ...]}}: a conversation. */
    CONVERSATIONAL("conversational", ConversationalExample.class, List.of("messages"), List.of()),
    /**
     * {@code {"prompt", "chosen", "rejected"[, "margin"]}}: a preference between two completions. Without
     * {@code prompt} the prompt is implicit in both completions (TRL's "implicit prompt") and reads as {@code ""}.
     */
    PAIRWISE("pairwise", PairwiseExample.class, List.of("chosen", "rejected"), List.of("prompt", "margin")),
    /** {@code {"prompt", "completions": [...], "ranking": [...]}}: completions ranked best first. */
    LISTWISE("listwise", ListwiseExample.class, List.of("prompt", "completions", "ranking"), List.of()),
    /** {@code {"prompt", "completion", "score"}}: one completion with a score. */
    POINTWISE("pointwise", PointwiseExample.class, List.of("prompt", "completion", "score"), List.of()),
    /** {@code {"prompt", "completions": [step, ...], "labels": [...]}}: a reasoning path labelled step by step. */
    PROCESS("process", ProcessExample.class, List.of("prompt", "completions", "labels"), List.of());

    private final String trlName;
    private final Class<? extends Example> type;
    private final List<String> fields;
    private final List<String> required;

    DatasetFormat(String trlName, Class<? extends Example> type, List<String> required, List<String> optional) {
        this.trlName = trlName;
        this.type = type;
        List<String> all = new ArrayList<>(required);
        all.addAll(optional);
        this.fields = List.copyOf(all);
        this.required = required;
    }

    /** The name TRL and pipeline files use, e.g. {@code prompt-completion}. */
    public String trlName() {
        return trlName;
    }

    /** The class of the examples a dataset of this format reads into. */
    public Class<? extends Example> exampleType() {
        return type;
    }

    /** Every field a record of this format may hold, required ones first. */
    public List<String> fields() {
        return fields;
    }

    /** The fields every record must hold. */
    public List<String> required() {
        return required;
    }

    @Override
    public String toString() {
        return trlName;
    }

    /** The format named {@code name} (a TRL name such as {@code pairwise}), or {@code null} when none is. */
    public static DatasetFormat byName(String name) {
        for (DatasetFormat f : values()) {
            if (f.trlName.equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** The TRL names of all formats, for messages: {@code text, prompt-completion, ...}. */
    public static String names() {
        List<String> out = new ArrayList<>();
        for (DatasetFormat f : values()) {
            out.add(f.trlName);
        }
        return String.join(", ", out);
    }

    /**
     * The format a record with these keys is written in, or {@code null} when the keys fit none. Checked in this
     * order: {@code messages} (conversational); {@code chosen} and {@code rejected} (pairwise); {@code completions}
     * with {@code ranking} (listwise) or {@code labels} (process); {@code prompt}, {@code completion} and
     * {@code score} (pointwise); {@code prompt} and {@code completion} (prompt-completion); {@code text}.
     */
    public static DatasetFormat detect(Set<String> keys) {
        if (keys.contains("messages")) {
            return CONVERSATIONAL;
        }
        if (keys.contains("chosen") && keys.contains("rejected")) {
            return PAIRWISE;
        }
        if (keys.contains("completions") && keys.contains("ranking")) {
            return LISTWISE;
        }
        if (keys.contains("completions") && keys.contains("labels")) {
            return PROCESS;
        }
        if (keys.contains("prompt") && keys.contains("completion")) {
            return keys.contains("score") ? POINTWISE : PROMPT_COMPLETION;
        }
        if (keys.contains("text")) {
            return TEXT;
        }
        return null;
    }
}
