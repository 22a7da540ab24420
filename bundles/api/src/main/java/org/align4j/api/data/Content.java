package org.align4j.api.data;

import java.util.List;
import java.util.Objects;

/**
 * A prompt or a completion as TRL writes it: plain text ({@code "2+2="}), or, in a conversational dataset, a list of
 * messages ({@code [{"role": "user", "content": "2+2="}]}). Immutable.
 */
public final class Content {
    private final String text;
    private final List<ChatMessage> messages;

    private Content(String text, List<ChatMessage> messages) {
        this.text = text;
        this.messages = messages;
    }

    /** Plain text. */
    public static Content text(String text) {
        return new Content(Objects.requireNonNull(text, "text"), null);
    }

    /** A list of messages. */
    public static Content messages(List<ChatMessage> messages) {
        return new Content(null, List.copyOf(messages));
    }

    /** Whether this is a list of messages rather than text. */
    public boolean isConversational() {
        return messages != null;
    }

    /** The text; fails on a list of messages (check {@link #isConversational()}). */
    public String text() {
        if (text == null) {
            throw new IllegalStateException("conversational content has no plain text; use messages()");
        }
        return text;
    }

    /** The messages; fails on plain text (check {@link #isConversational()}). */
    public List<ChatMessage> messages() {
        if (messages == null) {
            throw new IllegalStateException("plain-text content has no messages; use text()");
        }
        return messages;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Content && Objects.equals(((Content) o).text, text)
                && Objects.equals(((Content) o).messages, messages);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, messages);
    }

    @Override
    public String toString() {
        return text != null ? text : messages.toString();
    }
}
