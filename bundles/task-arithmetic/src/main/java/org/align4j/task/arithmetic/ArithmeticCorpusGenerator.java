package org.align4j.task.arithmetic;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.CorpusGeneratorService;
import org.align4j.api.pipeline.Settings;
import org.align4j.task.arithmetic.Arithmetic.Problem;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code arithmetic} corpus: one problem per document.
 *
 * <p>Settings: {@code count} (documents, default 10000, at least 1), {@code max_operand} (operands are uniform in
 * {@code [0, max_operand]}, default 99, at least 1), {@code ops} (the operators to use, a string of distinct
 * characters from {@code +-*}, default {@code +-*}; each document picks one uniformly); instead of {@code max_operand},
 * {@code difficulty} or {@code digits} / {@code multiplier_digits}; {@code distinct} (see
 * {@link ArithmeticSettings}); and {@code format}:
 * <ul>
 * <li>{@code equation} (default): the problem with its answer, e.g. {@code 37+45=82}, {@code 12*3=36},
 * {@code 12-45=-33}; records {@code {"text": "37+45=82"}}. Settings without {@code format}, {@code difficulty} and
 * {@code digits} give exactly the corpus of align4j's first version.</li>
 * <li>{@code text}: the task's prompt followed by its worked completion (see {@link ArithmeticTask}), so pre-training
 * sees the format SFT uses: {@code {"text": "Q: 47*36=?\n1. 47*6=282\n2. 47*30=1410\n3. 282+1410=1692\nA: 1692"}}.</li>
 * <li>{@code prompt-completion}: TRL's prompt-completion records,
 * {@code {"prompt": "Q: 47*36=?\n", "completion": "1. 47*6=282\n...\nA: 1692"}}; {@link #generate} gives the same
 * documents as {@code text}.</li>
 * </ul>
 *
 * <p>Deterministic: {@link SplittableRandom} seeded with {@code seed}; each document draws the operator, then the left
 * operand, then the right one (see {@link Arithmetic#random} and {@link Arithmetic#randomByDigits}); {@code format}
 * does not change which problems are drawn, and the {@code arithmetic} task draws the same ones.
 */
@Component(service = CorpusGenerator.class)
@CorpusGeneratorService(name = "arithmetic")
public final class ArithmeticCorpusGenerator implements CorpusGenerator {

    @Override
    public void validate(Settings settings) {
        new ArithmeticSettings(settings, true);
    }

    @Override
    public List<String> generate(Settings settings, long seed) {
        ArithmeticSettings p = new ArithmeticSettings(settings, true);
        List<String> out = new ArrayList<>(p.count);
        for (Problem problem : p.problems(seed)) {
            out.add(p.format == ArithmeticSettings.Format.EQUATION ? problem.document()
                    : WorkedAnswer.prompt(problem) + WorkedAnswer.example(problem).completion());
        }
        return out;
    }

    @Override
    public List<Map<String, Object>> records(Settings settings, long seed) {
        ArithmeticSettings p = new ArithmeticSettings(settings, true);
        if (p.format != ArithmeticSettings.Format.PROMPT_COMPLETION) {
            return CorpusGenerator.super.records(settings, seed);
        }
        List<Map<String, Object>> out = new ArrayList<>(p.count);
        for (Problem problem : p.problems(seed)) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("prompt", WorkedAnswer.prompt(problem));
            record.put("completion", WorkedAnswer.example(problem).completion());
            out.add(Collections.unmodifiableMap(record));
        }
        return out;
    }
}
