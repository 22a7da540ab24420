package org.align4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.align4j.pipeline.internal.PluginInfo;
import org.junit.jupiter.api.Test;

class PipelineCommandsTest {

    @Test
    void thePluginTableAlignsItsColumns() {
        PipelineCommands.PluginTable t = new PipelineCommands.PluginTable(List.of(
                new PluginInfo("mha", List.of("org.align4j.api.attention.AttentionKernel"),
                        "org.align4j.attention.standard", "0.1.0"),
                new PluginInfo("causal-lm", List.of("org.align4j.api.loss.LanguageModelLoss"), "org.align4j.loss.lm",
                        "0.1.0")));
        assertEquals(String.join("\n",
                "KIND               NAME       BUNDLE                          VERSION",
                "AttentionKernel    mha        org.align4j.attention.standard  0.1.0",
                "LanguageModelLoss  causal-lm  org.align4j.loss.lm             0.1.0",
                ""), t.toString().replace("\r\n", "\n"));
        assertEquals("KIND  NAME  BUNDLE  VERSION\n(no align4j plugin is registered)\n",
                new PipelineCommands.PluginTable(List.of()).toString().replace("\r\n", "\n"));
    }

    @Test
    void gogoPiecesOfAnOverrideAreJoinedBack() {
        // Gogo splits stages[0].steps=600 at its list brackets: "stages", the list [0], ".steps=600"
        assertEquals(List.of("stages[0].steps=600", "run.name=x"),
                PipelineCommands.rejoin("stages", List.of(0), ".steps=600", "run.name=x"));
        assertEquals(List.of("stages.0.steps=600"), PipelineCommands.rejoin("stages.0.steps=600"));
        assertEquals(List.of("steps"), PipelineCommands.rejoin("steps")); // left for Overrides.parse to refuse
    }
}
