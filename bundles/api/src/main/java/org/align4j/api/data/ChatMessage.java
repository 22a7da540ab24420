package org.align4j.api.data;

import java.util.Objects;

/**
 * One turn of a conversation, as TRL's conversational datasets write it: {@code {"role": "user", "content": "..."}}.
 * Roles are {@code system}, {@code user} and {@code assistant}.
 */
public final class ChatMessage {
    /** The role of instructions that frame the conversation. */
    public static final String SYSTEM = "system";
    /** The role of the person asking. */
    public static final String USER = "user";
    /** The role of the model; only its turns are trained on in SFT. */
    public static final String ASSISTANT = "assistant";

    private final String role;
    private final String content;

    public ChatMessage(String role, String content) {
        this.role = Objects.requireNonNull(role, "role");
        this.content = Objects.requireNonNull(content, "content");
    }

    public String role() {
        return role;
    }

    public String content() {
        return content;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChatMessage && ((ChatMessage) o).role.equals(role)
                && ((ChatMessage) o).content.equals(content);
    }

    @Override
    public int hashCode() {
        return role.hashCode() * 31 + content.hashCode();
    }

    @Override
    public String toString() {
        return role + ": " + content;
    }
}
