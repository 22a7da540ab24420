package org.align4j.api.data;

import java.util.List;

/** {@code {"messages": [{"role": ..., "content": ...}, ...]}}: a conversation with at least one assistant turn. */
public final class ConversationalExample extends Example {
    private final List<ChatMessage> messages;

    public ConversationalExample(String source, long line, List<ChatMessage> messages) {
        super(source, line);
        this.messages = List.copyOf(messages);
    }

    public List<ChatMessage> messages() {
        return messages;
    }

    @Override
    public DatasetFormat format() {
        return DatasetFormat.CONVERSATIONAL;
    }
}
