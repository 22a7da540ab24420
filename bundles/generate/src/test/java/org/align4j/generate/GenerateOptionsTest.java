package org.align4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.align4j.api.generate.Completion;
import org.align4j.api.generate.Completion.FinishReason;
import org.align4j.api.generate.GenerationSettings;
import org.junit.jupiter.api.Test;

/** The command line of {@code align4j generate} and the text it prints. */
class GenerateOptionsTest {

    static GenerateOptions parse(String... args) {
        return GenerateOptions.parse(List.of(args));
    }

    @Test
    void everyOptionIsRead() {
        GenerateOptions o = parse("runs/m", "Once upon", "--max-tokens", "32", "--temperature", "0.8", "--top-k",
                "40", "--top-p=0.9", "--repetition-penalty", "1.1", "--samples", "3", "--seed", "-7", "--stop",
                "\\n", "--stop", "THE END", "--no-cache");
        assertEquals("runs/m", o.folder);
        assertEquals("Once upon", o.prompt);
        GenerationSettings s = o.settings().decoder(ids -> "").build();
        assertEquals(32, s.maxNewTokens());
        assertEquals(0.8, s.temperature());
        assertEquals(40, s.topK());
        assertEquals(0.9, s.topP());
        assertEquals(1.1, s.repetitionPenalty());
        assertEquals(3, s.samples());
        assertEquals(-7, s.seed());
        assertEquals(List.of("\n", "THE END"), o.stops);
        assertFalse(s.cache());
    }

    @Test
    void defaultsAndFlags() {
        GenerateOptions o = parse("m", "p");
        GenerationSettings s = o.settings().build();
        assertEquals(64, s.maxNewTokens());
        assertEquals(1.0, s.temperature());
        assertEquals(0, s.topK());
        assertEquals(1.0, s.topP());
        assertEquals(1, s.samples());
        assertEquals(0, s.seed());
        assertTrue(s.cache());
        assertEquals(0.0, parse("--greedy", "m", "p").temperature);
        assertTrue(parse("--help").help);
        assertEquals("--max-tokens", parse("m", "--", "--max-tokens").prompt);
    }

    @Test
    void escapesInStopStrings() {
        assertEquals("a\nb\tc\\d\\q", GenerateOptions.unescape("a\\nb\\tc\\\\d\\q"));
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        assertEquals("--top-p: expected a number in (0, 1], got \"1.5\"",
                assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--top-p", "1.5"))
                        .getMessage());
        assertEquals("--max-tokens: expected an integer >= 1, got \"many\"",
                assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--max-tokens", "many"))
                        .getMessage());
        assertEquals("--temperature: expected a number >= 0 (0 is greedy), got \"-1\"",
                assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--temperature=-1"))
                        .getMessage());
        assertEquals("--seed: expected a value after it",
                assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--seed")).getMessage());
        assertTrue(assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--topk", "3"))
                .getMessage().startsWith("unknown option \"--topk\" (known: --max-tokens"));
        assertTrue(assertThrows(GenerateOptions.UsageException.class, () -> parse("m"))
                .getMessage().startsWith("expected a model folder and a prompt"));
        assertTrue(assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "Once", "upon"))
                .getMessage().contains("(quote a prompt that has spaces)"));
        assertEquals("--greedy takes no value, got \"yes\"",
                assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "--greedy=yes"))
                        .getMessage());
    }

    @Test
    void theTextIsCutBeforeTheFirstStopStringAndSamplesAreHeaded() {
        Completion a = new Completion(new int[] {1, 2}, new float[] {-1, -2}, FinishReason.STOP_STRING);
        Completion b = new Completion(new int[] {3}, new float[] {-1}, FinishReason.STOP_TOKEN);
        assertEquals("Hi there\n", GenerateCommands.format("Hi", List.of(a), List.of(" there\nmore"),
                List.of("\n")));
        assertEquals("--- sample 1 of 2 (stop string, 2 tokens) ---" + System.lineSeparator() + "Hi, x\n"
                + "--- sample 2 of 2 (stop token, 1 tokens) ---" + System.lineSeparator() + "Hi!\n",
                GenerateCommands.format("Hi", List.of(a, b), List.of(", x. END y", "!"), List.of("END", ".")));
    }

    @Test
    void bestOfNOptions() {
        GenerateOptions o = parse("m", "Q: 1+2=?", "--reward", "judge", "-n", "4", "--reward-version=2");
        assertEquals("judge", o.reward);
        assertEquals("2", o.rewardVersion);
        assertEquals(4, o.samples);
        assertEquals(8, parse("--samples", "8", "m", "p", "--reward", "j").samples, "the best-of-n default");
        assertEquals(3, parse("--samples", "8", "m", "p", "--reward", "j", "-n", "3").samples, "-n after it wins");
        GenerateOptions.UsageException e = assertThrows(GenerateOptions.UsageException.class,
                () -> parse("m", "p", "--reward-version", "2"));
        assertEquals("--reward-version: give --reward NAME too", e.getMessage());
        e = assertThrows(GenerateOptions.UsageException.class, () -> parse("m", "p", "-n", "0"));
        assertEquals("--samples: expected an integer >= 1, got \"0\"", e.getMessage());
    }

    @Test
    void bestOfNPrintsTheSamplesBestFirst() {
        List<Completion> samples = List.of(new Completion(new int[3], new float[3], FinishReason.STOP_TOKEN),
                new Completion(new int[5], new float[5], FinishReason.STOP_TOKEN),
                new Completion(new int[2], new float[2], FinishReason.MAX_TOKENS));
        List<org.align4j.api.reward.PromptCompletion> cut = List.of(new org.align4j.api.reward.PromptCompletion("Q",
                " a"), new org.align4j.api.reward.PromptCompletion("Q", " b"),
                new org.align4j.api.reward.PromptCompletion("Q", " c"));
        String out = GenerateCommands.ranked("Q", samples, cut, new float[] {0.5f, Float.NaN, 0.9f}, "judge 2 [b]")
                .replace(System.lineSeparator(), "\n");
        assertEquals("best of 3 by reward model judge 2 [b]\n"
                + "--- best (sample 3, reward 0.9000, 2 tokens) ---\nQ c\n"
                + "--- rank 2 (sample 1, reward 0.5000, 3 tokens) ---\nQ a\n"
                + "--- rank 3 (sample 2, reward NaN, 5 tokens) ---\nQ b\n", out, "best first, NaN last");
    }
}
