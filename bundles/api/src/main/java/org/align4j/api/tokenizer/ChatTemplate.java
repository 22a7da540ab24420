package org.align4j.api.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

import org.align4j.api.data.ChatMessage;
import org.align4j.api.pipeline.Settings;

/**
 * Renders a conversation ({@link ChatMessage}s) to token ids, with a mask of the tokens an SFT loss trains on.
 *
 * <p>The default template, where {@code <|...|>} are special tokens (one id each) and {@code \n} is ordinary text:
 * <pre>
 * &lt;|system|&gt;\n{content}&lt;|end|&gt;\n
 * &lt;|user|&gt;\n{content}&lt;|end|&gt;\n
 * &lt;|assistant|&gt;\n{content}&lt;|end|&gt;\n
 * </pre>
 * one line per message, in the order given, and with the generation prompt (for inference) {@code <|assistant|>\n}
 * at the end. Nothing is put before the first message (no beginning-of-text token) unless {@code bos} is set, and
 * nothing after the last (no end-of-text token: {@code <|end|>} ends a turn).
 *
 * <p>Configurable through a settings section (e.g. a pipeline's {@code chat_template: {...}}), every key optional:
 * <ul>
 * <li>{@code system}, {@code user}, {@code assistant}: the role markers, each the content of a special token of the
 * tokenizer (defaults {@code <|system|>}, {@code <|user|>}, {@code <|assistant|>});</li>
 * <li>{@code end}: the end-of-turn marker, a special token (default {@code <|end|>});</li>
 * <li>{@code bos}: a special token put once before everything, e.g. {@code <|bos|>} (default: none);</li>
 * <li>{@code after_marker}: ordinary text after each role marker (default {@code "\n"});</li>
 * <li>{@code after_end}: ordinary text after each end-of-turn marker (default {@code "\n"}).</li>
 * </ul>
 * Markers must be non-empty and distinct; the separators may be empty and must not contain a marker.
 *
 * <p><b>Ids.</b> Markers become their special token's id (never their text's bytes). The ordinary text between two
 * consecutive special tokens (separator, content, separator) is encoded in one {@link Tokenizer#encode} call, exactly
 * as Hugging Face's {@code tokenizers} encodes {@link #renderText} (it splits the special tokens out and encodes the
 * pieces between them), so both give the same ids. Content is never searched for markers: a message that contains
 * {@code <|user|>} stays ordinary text here, while Hugging Face would read that text as the marker.
 *
 * <p><b>Mask.</b> {@code assistantMask()[i]} is true for the tokens of each assistant turn's content and for the
 * end-of-turn marker after it: what the model must learn to produce. Role markers, separators, system and user turns
 * and the generation prompt are false. Because separator and content are encoded together, a token may straddle
 * both (e.g. {@code after_marker} {@code "\n"} before content that starts with {@code "\n"}, or an {@code after_marker}
 * ending in a space, which GPT-2's pre-tokenizer joins to the first word); such a token counts to the content (true),
 * so every byte of the content is trained on. With the default {@code "\n"} and content that starts with a
 * non-space character, the separator is a token of its own and ids at inference (prompt ending in the marker and
 * {@code "\n"}) match the ids trained on.
 *
 * <p>Immutable.
 */
public final class ChatTemplate {

    static final String BOS = "bos";
    static final String SYSTEM = "system";
    static final String USER = "user";
    static final String ASSISTANT = "assistant";
    static final String END = "end";
    static final String AFTER_MARKER = "after_marker";
    static final String AFTER_END = "after_end";

    /** The default template (see the class comment). */
    public static final ChatTemplate DEFAULT = new ChatTemplate(null,
            SpecialTokens.defaultContents().get(SpecialTokens.SYSTEM),
            SpecialTokens.defaultContents().get(SpecialTokens.USER),
            SpecialTokens.defaultContents().get(SpecialTokens.ASSISTANT),
            SpecialTokens.defaultContents().get(SpecialTokens.END), "\n", "\n");

    private final String bos;
    private final Map<String, String> markers = new LinkedHashMap<>();
    private final String end;
    private final String afterMarker;
    private final String afterEnd;

    private ChatTemplate(String bos, String system, String user, String assistant, String end, String afterMarker,
            String afterEnd) {
        this.bos = bos;
        markers.put(ChatMessage.SYSTEM, system);
        markers.put(ChatMessage.USER, user);
        markers.put(ChatMessage.ASSISTANT, assistant);
        this.end = end;
        this.afterMarker = afterMarker;
        this.afterEnd = afterEnd;
    }

    /**
     * A template from a settings section (keys in the class comment; absent keys take their defaults).
     *
     * @throws org.align4j.api.pipeline.SettingsException naming the key on an unknown key or a bad value
     */
    public static ChatTemplate of(Settings s) {
        s.checkKnown(BOS, SYSTEM, USER, ASSISTANT, END, AFTER_MARKER, AFTER_END);
        Map<String, String> special = new LinkedHashMap<>();
        String bos = s.has(BOS) ? s.getString(BOS) : null;
        if (bos != null) {
            special.put(BOS, bos);
        }
        special.put(SYSTEM, s.getString(SYSTEM, DEFAULT.markers.get(ChatMessage.SYSTEM)));
        special.put(USER, s.getString(USER, DEFAULT.markers.get(ChatMessage.USER)));
        special.put(ASSISTANT, s.getString(ASSISTANT, DEFAULT.markers.get(ChatMessage.ASSISTANT)));
        special.put(END, s.getString(END, DEFAULT.end));
        Map<String, String> seen = new HashMap<>();
        for (Map.Entry<String, String> e : special.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw s.error(e.getKey(), "expected the content of a special token, e.g. \""
                        + SpecialTokens.defaultContents().getOrDefault(e.getKey(), "<|bos|>") + "\", got \"\"");
            }
            String other = seen.put(e.getValue(), e.getKey());
            if (other != null) {
                throw s.error(e.getKey(), "\"" + e.getValue() + "\" is already the " + other
                        + " marker; each marker needs a special token of its own");
            }
        }
        String afterMarker = s.getString(AFTER_MARKER, DEFAULT.afterMarker);
        String afterEnd = s.getString(AFTER_END, DEFAULT.afterEnd);
        for (String key : new String[] {AFTER_MARKER, AFTER_END}) {
            String sep = key.equals(AFTER_MARKER) ? afterMarker : afterEnd;
            for (Map.Entry<String, String> e : special.entrySet()) {
                if (sep.contains(e.getValue())) {
                    throw s.error(key, "contains the " + e.getKey() + " marker \"" + e.getValue()
                            + "\"; a separator is ordinary text (markers are placed by the template)");
                }
            }
        }
        return new ChatTemplate(bos, special.get(SYSTEM), special.get(USER), special.get(ASSISTANT), special.get(END),
                afterMarker, afterEnd);
    }

    /** The ids of a rendered conversation and which of them an SFT loss trains on. */
    public static final class Rendered {
        private final int[] ids;
        private final boolean[] assistantMask;

        Rendered(int[] ids, boolean[] assistantMask) {
            this.ids = ids;
            this.assistantMask = assistantMask;
        }

        /** The token ids. */
        public int[] ids() {
            return ids.clone();
        }

        /** Per token: true where it belongs to an assistant turn (content and its end-of-turn marker). */
        public boolean[] assistantMask() {
            return assistantMask.clone();
        }

        /** The number of tokens. */
        public int length() {
            return ids.length;
        }

        @Override
        public String toString() {
            return "Rendered" + Arrays.toString(ids);
        }
    }

    /**
     * Renders {@code messages} to ids.
     *
     * @param generationPrompt append the assistant marker and {@code after_marker}, for the model to continue
     * @throws IllegalArgumentException on a role other than system, user and assistant (naming the message), or when
     *                                  a marker the conversation needs is not a special token of {@code tokenizer}
     */
    public Rendered render(Tokenizer tokenizer, List<ChatMessage> messages, boolean generationPrompt) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        checkRoles(messages);
        Builder b = new Builder(tokenizer);
        if (bos != null) {
            b.special(b.id(BOS, bos), false);
        }
        for (ChatMessage m : messages) {
            boolean assistant = ChatMessage.ASSISTANT.equals(m.role());
            b.special(b.id(m.role(), markers.get(m.role())), false);
            b.run.append(afterMarker);
            if (assistant) {
                b.contentStart = b.run.length();
            }
            b.run.append(m.content());
            b.special(b.id(END, end), assistant);
            b.run.append(afterEnd);
        }
        if (generationPrompt) {
            b.special(b.id(ChatMessage.ASSISTANT, markers.get(ChatMessage.ASSISTANT)), false);
            b.run.append(afterMarker);
        }
        b.flush();
        return new Rendered(Arrays.copyOf(b.ids, b.n), Arrays.copyOf(b.mask, b.n));
    }

    /**
     * The same conversation as text, each special token written as its content: what Hugging Face's
     * {@code tokenizers} (which splits special tokens out of text) encodes to the ids of {@link #render}, as long as
     * no message contains a special token's content.
     */
    public String renderText(List<ChatMessage> messages, boolean generationPrompt) {
        checkRoles(messages);
        StringBuilder b = new StringBuilder();
        if (bos != null) {
            b.append(bos);
        }
        for (ChatMessage m : messages) {
            b.append(markers.get(m.role())).append(afterMarker).append(m.content()).append(end).append(afterEnd);
        }
        if (generationPrompt) {
            b.append(markers.get(ChatMessage.ASSISTANT)).append(afterMarker);
        }
        return b.toString();
    }

    private void checkRoles(List<ChatMessage> messages) {
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (!markers.containsKey(m.role())) {
                throw new IllegalArgumentException("message " + i + ": role \"" + m.role()
                        + "\": expected system, user or assistant");
            }
        }
    }

    /** The special tokens of the template by key ({@code bos} when set, system, user, assistant, end). */
    public Map<String, String> markers() {
        Map<String, String> out = new LinkedHashMap<>();
        if (bos != null) {
            out.put(BOS, bos);
        }
        out.putAll(markers);
        out.put(END, end);
        return out;
    }

    /** The ordinary text after each role marker. */
    public String afterMarker() {
        return afterMarker;
    }

    /** The ordinary text after each end-of-turn marker. */
    public String afterEnd() {
        return afterEnd;
    }

    @Override
    public String toString() {
        return "ChatTemplate" + markers() + " after_marker=" + quote(afterMarker) + " after_end=" + quote(afterEnd);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "\"";
    }

    /** Collects ids and mask; ordinary text between two special tokens is encoded in one call. */
    private static final class Builder {
        final Tokenizer tokenizer;
        final StringBuilder run = new StringBuilder();
        final Map<String, Integer> found = new HashMap<>();
        /** Where the assistant's content starts in {@link #run}, or -1 when the run holds none. */
        int contentStart = -1;
        int[] ids = new int[64];
        boolean[] mask = new boolean[64];
        int n;

        Builder(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
        }

        int id(String key, String content) {
            Integer id = found.get(content);
            if (id == null) {
                OptionalInt o = tokenizer.specialTokenId(content);
                if (o.isEmpty()) {
                    throw new IllegalArgumentException("chat template: the " + key + " marker \"" + content
                            + "\" is not a special token of this tokenizer (its special tokens: "
                            + new LinkedHashSet<>(tokenizer.specialTokens().contents().values())
                            + "); train the tokenizer with \"" + content + "\" in special_tokens, or set"
                            + " chat_template." + key + " to one of its special tokens");
                }
                id = o.getAsInt();
                found.put(content, id);
            }
            return id;
        }

        void special(int id, boolean masked) {
            flush();
            add(id, masked);
        }

        void flush() {
            if (run.length() > 0) {
                int[] r = tokenizer.encode(run.toString());
                int from = contentStart < 0 ? r.length : firstTokenOf(r, run.substring(0, contentStart));
                for (int k = 0; k < r.length; k++) {
                    add(r[k], k >= from);
                }
            }
            run.setLength(0);
            contentStart = -1;
        }

        /**
         * The first token of {@code r} that holds any of the content, i.e. that does not lie wholly in {@code prefix}
         * (the separator text before the content): the longest run of leading tokens whose text is a prefix of
         * {@code prefix} is the separator's. A token cut in the middle of a character decodes to U+FFFD and is looked
         * past until a later token completes it.
         */
        private int firstTokenOf(int[] r, String prefix) {
            int best = 0;
            for (int k = 1; k <= r.length; k++) {
                String d = tokenizer.decode(Arrays.copyOf(r, k));
                if (prefix.startsWith(d)) {
                    best = k;
                } else if (d.length() > prefix.length() + 4) {
                    break;
                }
            }
            return best;
        }

        void add(int id, boolean masked) {
            if (n == ids.length) {
                ids = Arrays.copyOf(ids, n * 2);
                mask = Arrays.copyOf(mask, n * 2);
            }
            ids[n] = id;
            mask[n++] = masked;
        }
    }
}
