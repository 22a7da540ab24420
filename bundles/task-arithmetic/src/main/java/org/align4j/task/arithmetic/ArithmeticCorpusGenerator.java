package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.CorpusGeneratorService;
import org.align4j.api.pipeline.Settings;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code arithmetic} corpus: one problem with its answer per document, e.g. {@code 37+45=82}, {@code 12*3=36},
 * {@code 81-29=52}, {@code 12-45=-33}.
 *
 * <p>Settings: {@code count} (documents, default 10000, at least 1), {@code max_operand} (operands are uniform in
 * {@code [0, max_operand]}, default 99, at least 1), {@code ops} (the operators to use, a string of distinct
 * characters from {@code +-*}, default {@code +-*}; each document picks one uniformly).
 *
 * <p>Deterministic: {@link SplittableRandom} seeded with {@code seed}; each document draws the operator, then the left
 * operand, then the right one (see {@link Arithmetic#random}).
 */
@Component(service = CorpusGenerator.class)
@CorpusGeneratorService(name = "arithmetic")
public final class ArithmeticCorpusGenerator implements CorpusGenerator {

    static final String COUNT = "count";
    static final String MAX_OPERAND = "max_operand";
    static final String OPS = "ops";

    /** The settings, checked as they are read. */
    private static final class Params {
        final int count;
        final int maxOperand;
        final String ops;

        Params(Settings settings) {
            settings.checkKnown(COUNT, MAX_OPERAND, OPS);
            count = settings.getInt(COUNT, 10_000);
            if (count < 1) {
                throw settings.error(COUNT, "expected a whole number of at least 1, got " + count);
            }
            maxOperand = settings.getInt(MAX_OPERAND, 99);
            if (maxOperand < 1) {
                throw settings.error(MAX_OPERAND, "expected a whole number of at least 1, got " + maxOperand);
            }
            ops = settings.getString(OPS, Arithmetic.OPERATORS);
            if (ops.isEmpty()) {
                throw settings.error(OPS,
                        "expected one or more of the operators " + Arithmetic.OPERATORS + ", got \"\"");
            }
            for (int i = 0; i < ops.length(); i++) {
                char c = ops.charAt(i);
                if (Arithmetic.OPERATORS.indexOf(c) < 0) {
                    throw settings.error(OPS, "'" + c + "' is not an operator; use characters from \""
                            + Arithmetic.OPERATORS + "\", got \"" + ops + "\"");
                }
                if (ops.indexOf(c) != i) {
                    throw settings.error(OPS,
                            "'" + c + "' is listed twice in \"" + ops + "\"; list each operator once");
                }
            }
        }
    }

    @Override
    public void validate(Settings settings) {
        new Params(settings);
    }

    @Override
    public List<String> generate(Settings settings, long seed) {
        Params p = new Params(settings);
        int count = p.count;
        int maxOperand = p.maxOperand;
        String ops = p.ops;
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(Arithmetic.random(rnd, maxOperand, ops).document());
        }
        return out;
    }
}
