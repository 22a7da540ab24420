package org.align4j.api.tokenizer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The special tokens of a {@link Tokenizer} by role: which id is beginning-of-text, end-of-text, padding, the chat
 * role markers, end of turn and the step separator. A role a tokenizer does not have is absent.
 *
 * <p>The roles and the texts align4j's byte-level BPE gives them by default (a token's text is its {@code content}
 * in {@code tokenizer.json}'s {@code added_tokens}):
 * <table>
 * <caption>Roles</caption>
 * <tr><th>role</th><th>default content</th><th>use</th></tr>
 * <tr><td>{@link #EOS eos}</td><td>{@code <|endoftext|>}</td><td>after each document when a corpus is packed; after a
 * completion</td></tr>
 * <tr><td>{@link #BOS bos}</td><td>{@code <|bos|>}</td><td>before a text, where a template asks for it</td></tr>
 * <tr><td>{@link #PAD pad}</td><td>{@code <|pad|>}</td><td>padding (masked out of every loss); {@code eos} where a
 * tokenizer has no pad token</td></tr>
 * <tr><td>{@link #SYSTEM system}, {@link #USER user}, {@link #ASSISTANT assistant}</td><td>{@code <|system|>},
 * {@code <|user|>}, {@code <|assistant|>}</td><td>the role markers of {@link ChatTemplate}</td></tr>
 * <tr><td>{@link #END end}</td><td>{@code <|end|>}</td><td>end of a chat turn</td></tr>
 * <tr><td>{@link #STEP step}</td><td>{@code <|step|>}</td><td>between the steps of a step-by-step answer (process
 * reward models score the position of each)</td></tr>
 * </table>
 *
 * <p>Immutable.
 */
public final class SpecialTokens {
    /** Beginning of text. */
    public static final String BOS = "bos";
    /** End of text. */
    public static final String EOS = "eos";
    /** Padding. */
    public static final String PAD = "pad";
    /** Chat role marker: system turn. */
    public static final String SYSTEM = "system";
    /** Chat role marker: user turn. */
    public static final String USER = "user";
    /** Chat role marker: assistant turn. */
    public static final String ASSISTANT = "assistant";
    /** End of a chat turn. */
    public static final String END = "end";
    /** Separator between the steps of a step-by-step answer. */
    public static final String STEP = "step";

    /** All roles, in the order their default tokens are given ids (end-of-text first). */
    public static final List<String> ROLES = List.of(EOS, BOS, PAD, SYSTEM, USER, ASSISTANT, END, STEP);

    private static final Map<String, String> DEFAULT_CONTENTS;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(EOS, "<|endoftext|>");
        m.put(BOS, "<|bos|>");
        m.put(PAD, "<|pad|>");
        m.put(SYSTEM, "<|system|>");
        m.put(USER, "<|user|>");
        m.put(ASSISTANT, "<|assistant|>");
        m.put(END, "<|end|>");
        m.put(STEP, "<|step|>");
        DEFAULT_CONTENTS = Collections.unmodifiableMap(m);
    }

    private final Map<String, Integer> ids;
    private final Map<String, String> contents;

    private SpecialTokens(Map<String, Integer> ids, Map<String, String> contents) {
        this.ids = ids;
        this.contents = contents;
    }

    /** The default content of each role, in {@link #ROLES} order: {@code eos -> <|endoftext|>}, ... */
    public static Map<String, String> defaultContents() {
        return DEFAULT_CONTENTS;
    }

    /**
     * Special tokens with the given ids and (where known) contents.
     *
     * @param ids      role to token id; roles from {@link #ROLES}
     * @param contents role to the token's text; may lack roles (their content is unknown), never roles without an id
     * @throws IllegalArgumentException on an unknown role, a negative id, or a content without an id
     */
    public static SpecialTokens of(Map<String, Integer> ids, Map<String, String> contents) {
        Map<String, Integer> i = new LinkedHashMap<>();
        Map<String, String> c = new LinkedHashMap<>();
        for (String role : ids.keySet()) {
            if (!ROLES.contains(role)) {
                throw new IllegalArgumentException("unknown special token role \"" + role + "\"; expected one of "
                        + ROLES);
            }
        }
        for (String role : contents.keySet()) {
            if (!ids.containsKey(role)) {
                throw new IllegalArgumentException("special token role \"" + role + "\" has a content but no id");
            }
        }
        for (String role : ROLES) {
            Integer id = ids.get(role);
            if (id == null) {
                continue;
            }
            if (id < 0) {
                throw new IllegalArgumentException("special token role \"" + role + "\": negative id " + id);
            }
            i.put(role, id);
            String content = contents.get(role);
            if (content != null) {
                c.put(role, content);
            }
        }
        return new SpecialTokens(Collections.unmodifiableMap(i), Collections.unmodifiableMap(c));
    }

    /** The id of {@code role}, if the tokenizer has that role. */
    public OptionalInt id(String role) {
        Integer id = ids.get(role);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The id of {@code role}.
     *
     * @throws IllegalStateException naming the role and its default content when the tokenizer lacks it
     */
    public int require(String role) {
        Integer id = ids.get(role);
        if (id == null) {
            String def = DEFAULT_CONTENTS.get(role);
            throw new IllegalStateException("the tokenizer has no " + role + " token" + (def == null ? ""
                    : " (" + def + "); train a new tokenizer with it in special_tokens (the default list has it)"));
        }
        return id;
    }

    /** The text ({@code content}) of {@code role}'s token, where known. */
    public Optional<String> content(String role) {
        return Optional.ofNullable(contents.get(role));
    }

    /** Role to id, in {@link #ROLES} order. */
    public Map<String, Integer> ids() {
        return ids;
    }

    /** Role to content, in {@link #ROLES} order; roles whose content is unknown are left out. */
    public Map<String, String> contents() {
        return contents;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpecialTokens && ((SpecialTokens) o).ids.equals(ids)
                && ((SpecialTokens) o).contents.equals(contents);
    }

    @Override
    public int hashCode() {
        return ids.hashCode() * 31 + contents.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("{");
        ids.forEach((role, id) -> {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append(role).append('=').append(id);
            String c = contents.get(role);
            if (c != null) {
                b.append(' ').append(c);
            }
        });
        return b.append('}').toString();
    }
}
