package org.align4j.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.align4j.api.generate.GenerationSettings;

/**
 * The arguments of {@code align4j generate <model-folder> "<prompt>" [options]} (the launcher's subcommand and the
 * Gogo command {@code align4j:generate}). Options take their value as the next argument or after {@code =}.
 */
final class GenerateOptions {

    static final String USAGE = String.join("\n",
            "usage: align4j generate <model-folder> \"<prompt>\" [options]",
            "  <model-folder>            config.json, model.safetensors and tokenizer.json (what a stage writes to"
                    + " <workdir>/stage-<i>-<trainer>/model)",
            "  --max-tokens N            new tokens per sample (default 64)",
            "  --temperature X           0 is greedy (default 1)",
            "  --greedy                  the same as --temperature 0",
            "  --top-k N                 keep the N most likely tokens (default 0: all)",
            "  --top-p X                 keep the most likely tokens up to probability X (default 1: all)",
            "  --repetition-penalty X    discourage tokens already present, e.g. 1.1 (default 1: none)",
            "  --samples N               continuations of the prompt (default 1)",
            "  --seed N                  the same seed gives the same text (default 0)",
            "  --stop S                  stop at the string S (repeatable; \\n \\t \\\\ are escapes);"
                    + " generation always stops at end-of-text",
            "  --no-cache                recompute the whole prefix for every token (slow; for comparison)",
            "  --reward NAME             best-of-N: score the samples with the reward model of that align4j.name",
            "                            (its newest version) and print them best first, with their rewards",
            "  --reward-version V        pin the reward model's version",
            "  -n N                      the same as --samples N",
            "(align4j best-of-n <model-folder> --reward NAME -n 8 \"<prompt>\" is generate with --reward; N defaults"
                    + " to 8 there)");

    /** A command line that cannot be run: the message says why; no stack trace. */
    static final class UsageException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    String folder;
    String prompt;
    boolean help;
    int maxTokens = 64;
    double temperature = 1;
    int topK;
    double topP = 1;
    double repetitionPenalty = 1;
    int samples = 1;
    long seed;
    final List<String> stops = new ArrayList<>();
    boolean cache = true;
    /** Best-of-N: the reward model's name, or null. */
    String reward;
    String rewardVersion;

    static GenerateOptions parse(List<String> args) {
        GenerateOptions o = new GenerateOptions();
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if ((!a.startsWith("--") || a.equals("--")) && !a.equals("-n")) {
                if (a.equals("--")) { // everything after is positional (a prompt starting with --)
                    positional.addAll(args.subList(i + 1, args.size()));
                    break;
                }
                positional.add(a);
                continue;
            }
            String name = a.equals("-n") ? "--samples" : a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "--help":
                    o.help = true;
                    continue;
                case "--greedy":
                    flag(name, value);
                    o.temperature = 0;
                    continue;
                case "--no-cache":
                    flag(name, value);
                    o.cache = false;
                    continue;
                default:
                    break;
            }
            if (value == null) {
                if (i + 1 >= args.size()) {
                    if (!known(name)) {
                        throw unknown(name);
                    }
                    throw new UsageException(name + ": expected a value after it");
                }
                value = args.get(++i);
            }
            switch (name) {
                case "--max-tokens":
                    o.maxTokens = integer(name, value, 1);
                    break;
                case "--temperature":
                    o.temperature = number(name, value, 0, Double.MAX_VALUE, "a number >= 0 (0 is greedy)");
                    break;
                case "--top-k":
                    o.topK = integer(name, value, 0);
                    break;
                case "--top-p":
                    o.topP = number(name, value, Double.MIN_VALUE, 1, "a number in (0, 1]");
                    break;
                case "--repetition-penalty":
                    o.repetitionPenalty = number(name, value, Double.MIN_VALUE, Double.MAX_VALUE,
                            "a number > 0 (1 is none)");
                    break;
                case "--samples":
                    o.samples = integer(name, value, 1);
                    break;
                case "--seed":
                    try {
                        o.seed = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new UsageException(name + ": expected an integer, got \"" + value + "\"");
                    }
                    break;
                case "--reward":
                    o.reward = value;
                    break;
                case "--reward-version":
                    o.rewardVersion = value;
                    break;
                case "--stop":
                    String stop = unescape(value);
                    if (stop.isEmpty()) {
                        throw new UsageException(name + ": expected a non-empty string");
                    }
                    o.stops.add(stop);
                    break;
                default:
                    throw unknown(name);
            }
        }
        if (o.help) {
            return o;
        }
        if (positional.size() != 2) {
            throw new UsageException(positional.size() < 2
                    ? "expected a model folder and a prompt, e.g. align4j generate runs/tiny/model \"Once upon a"
                            + " time\" --max-tokens 64"
                    : "expected a model folder and one prompt, got " + positional.size() + " arguments "
                            + positional + " (quote a prompt that has spaces)");
        }
        if (o.rewardVersion != null && o.reward == null) {
            throw new UsageException("--reward-version: give --reward NAME too");
        }
        o.folder = positional.get(0);
        o.prompt = positional.get(1);
        return o;
    }

    private static final List<String> NAMES = List.of("--max-tokens", "--temperature", "--greedy", "--top-k",
            "--top-p", "--repetition-penalty", "--samples", "-n", "--seed", "--stop", "--no-cache", "--reward",
            "--reward-version", "--help");

    private static boolean known(String name) {
        return NAMES.contains(name);
    }

    private static UsageException unknown(String name) {
        return new UsageException("unknown option \"" + name + "\" (known: " + String.join(" ", NAMES) + ")");
    }

    private static void flag(String name, String value) {
        if (value != null) {
            throw new UsageException(name + " takes no value, got \"" + value + "\"");
        }
    }

    private static int integer(String name, String value, int min) {
        try {
            int v = Integer.parseInt(value);
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(name + ": expected an integer >= " + min + ", got \"" + value + "\"");
    }

    private static double number(String name, String value, double min, double max, String expected) {
        try {
            double v = Double.parseDouble(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(name + ": expected " + expected + ", got \"" + value + "\"");
    }

    /** {@code \n}, {@code \t}, {@code \r} and {@code \\} to their characters; other backslashes stay. */
    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                String r = n == 'n' ? "\n" : n == 't' ? "\t" : n == 'r' ? "\r" : n == '\\' ? "\\" : null;
                if (r != null) {
                    b.append(r);
                    i++;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    /** The settings, without the stop token and the decoder (they come from the tokenizer). */
    GenerationSettings.Builder settings() {
        return GenerationSettings.builder().maxNewTokens(maxTokens).temperature(temperature).topK(topK).topP(topP)
                .repetitionPenalty(repetitionPenalty).samples(samples).seed(seed).stopStrings(stops).cache(cache);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "generate %s \"%s\" max_tokens=%d temperature=%s top_k=%d top_p=%s"
                + " repetition_penalty=%s samples=%d seed=%d stops=%s cache=%s", folder, prompt, maxTokens,
                temperature, topK, topP, repetitionPenalty, samples, seed, stops, cache);
    }
}
