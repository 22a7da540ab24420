package org.align4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The generation benchmark end to end, small: align4j's Generator with and without the KV cache in this JVM, and the
 * DJL peer ({@link DjlGenerate}) in a JVM of its own on the same weights and prompts. Greedy decoding of the same
 * model must give the same tokens on both engines (the logits of a freshly initialised model are far from ties at
 * float32 rounding), which checks that the peer runs the same model.
 */
class GenerateBenchTest {

    @Test
    void theDjlPeerDecodesTheSameModelToTheSameTokens() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream before = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, GenerateBench.run(new String[] {"--rounds", "1", "--tokens", "12", "--batch", "3",
                    "--prompt", "5"}));
        } finally {
            System.setOut(before);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("same tokens:                    yes"), out);
        Matcher djl = Pattern.compile("DJL on PyTorch, KV cache: +([0-9.]+) tokens/s").matcher(out);
        assertTrue(djl.find(), out);
        assertTrue(Double.parseDouble(djl.group(1)) > 0, out);
        Matcher same = Pattern.compile("same greedy tokens as DJL: +(\\d+) of (\\d+) rows whole, ([0-9.]+)%")
                .matcher(out);
        assertTrue(same.find(), out);
        assertEquals("3", same.group(2));
        assertEquals("3", same.group(1), "every row decoded alike by both engines: " + out);
        assertTrue(out.contains("align4j / DJL (KV cache):"), out);
    }
}
