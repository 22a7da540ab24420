package org.align4j.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} arguments, checked against the names a program accepts. */
final class Args {
    private final String program;
    private final Map<String, String> values = new LinkedHashMap<>();

    /**
     * @param withValue option names (without {@code --}) that take a value
     * @param flags option names that take none
     */
    Args(String program, String[] args, Set<String> withValue, Set<String> flags) {
        this.program = program;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw usage("unexpected argument \"" + a + "\"");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw usage("--" + name + " takes no value");
                }
                values.put(name, "true");
            } else if (withValue.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw usage("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                values.put(name, value);
            } else {
                throw usage("unknown option --" + name + " (accepted: " + accepted(withValue, flags) + ")");
            }
        }
    }

    private static String accepted(Set<String> withValue, Set<String> flags) {
        StringBuilder b = new StringBuilder();
        withValue.forEach(n -> b.append(b.length() == 0 ? "" : ", ").append("--").append(n).append(" N"));
        flags.forEach(n -> b.append(b.length() == 0 ? "" : ", ").append("--").append(n));
        return b.toString();
    }

    IllegalArgumentException usage(String problem) {
        return new IllegalArgumentException(program + ": " + problem);
    }

    boolean flag(String name) {
        return values.containsKey(name);
    }

    String string(String name, String def) {
        return values.getOrDefault(name, def);
    }

    /** The model size of {@code --size} ({@code small} or {@code large}; default small). */
    BenchModel.Size size() {
        String v = string("size", "small");
        try {
            return BenchModel.Size.of(v);
        } catch (IllegalArgumentException e) {
            throw usage("--size: expected small or large, got \"" + v + "\"");
        }
    }

    /** A whole number in {@code [min, max]}. */
    int integer(String name, int def, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return def;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw usage("--" + name + ": expected a whole number, got \"" + v + "\"");
        }
        if (n < min || n > max) {
            throw usage("--" + name + ": expected a number in [" + min + ", " + max + "], got " + n);
        }
        return n;
    }

    long longValue(String name, long def) {
        String v = values.get(name);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw usage("--" + name + ": expected a whole number, got \"" + v + "\"");
        }
    }
}
