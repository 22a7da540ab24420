package org.align4j.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import javax.inject.Inject;

import org.align4j.api.attention.AttentionKernel;
import org.align4j.api.data.CorpusGenerator;
import org.align4j.api.data.DatasetReader;
import org.align4j.api.data.TextDatasets;
import org.align4j.api.loss.LanguageModelLoss;
import org.align4j.api.metrics.TrainingListener;
import org.align4j.api.model.CheckpointStore;
import org.align4j.api.model.TransformerFactory;
import org.align4j.api.model.WeightStore;
import org.align4j.api.optim.LearningRateSchedule;
import org.align4j.api.optim.Optimizer;
import org.align4j.api.pipeline.PipelineRunner;
import org.align4j.api.runtime.TensorFlowRuntime;
import org.align4j.api.tokenizer.TokenizerFactory;
import org.align4j.api.train.Trainer;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/** Every bundle of the distribution resolves and starts, and every plugin registers its service. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PluginServicesIT {

    @Inject
    private BundleContext context;

    @Inject
    private TensorFlowRuntime runtime;

    @Inject
    private ServiceComponentRuntime scr;

    @Configuration
    public Option[] config() {
        return Align4jOptions.config("plugin-services");
    }

    @Test
    public void everyBundleIsActive() {
        List<String> notActive = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get("Fragment-Host") != null;
            // the interactive shell is installed but not started where nobody types; it must still resolve
            boolean shell = "org.apache.felix.gogo.jline".equals(b.getSymbolicName());
            if (shell) {
                context.getBundle(0).adapt(FrameworkWiring.class).resolveBundles(List.of(b));
            }
            int expected = shell ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (!fragment && b.getState() != expected) {
                notActive.add(b.getSymbolicName() + " " + b.getVersion() + " state " + b.getState());
            }
        }
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());
    }

    @Test
    public void theRuntimeLoadedTensorFlow() {
        assertEquals("cpu", runtime.device());
        assertTrue(runtime.tensorflowVersion(), runtime.tensorflowVersion().startsWith("2."));
    }

    @Test
    public void everyPluginIsRegistered() throws Exception {
        assertEquals(Set.of("mha", "mha-fast", "sliding-window"), names(AttentionKernel.class));
        assertEquals(Set.of("causal-lm"), names(LanguageModelLoss.class));
        assertEquals(Set.of("adam", "adamw", "momentum", "sgd"), names(Optimizer.class));
        assertTrue(names(LearningRateSchedule.class).containsAll(Set.of("constant", "cosine")));
        assertEquals(Set.of("bpe"), names(TokenizerFactory.class));
        assertEquals(Set.of("jsonl", "text"), names(DatasetReader.class));
        assertEquals(Set.of("arithmetic"), names(CorpusGenerator.class));
        assertEquals(Set.of("arithmetic"), names(org.align4j.api.task.Task.class));
        assertEquals(Set.of("arithmetic-verifier"), names(org.align4j.api.reward.RewardModel.class));
        assertEquals(Set.of("best-of-n", "dpo", "feedback", "package-reward", "ppo", "pretrain", "reward", "sft"),
                names(org.align4j.api.train.StageCheck.class));
        assertEquals(Set.of("bradley-terry"), names(org.align4j.api.loss.PairwiseLoss.class));
        assertEquals(Set.of("accumulated-pairwise", "listnet", "plackett-luce"),
                names(org.align4j.api.loss.ListwiseLoss.class));
        assertEquals(Set.of("huber", "mse"), names(org.align4j.api.loss.PointwiseLoss.class));
        assertEquals(Set.of("outcome", "step-binary", "step-cross-entropy", "step-single-logit"),
                names(org.align4j.api.loss.ProcessLoss.class));
        assertEquals(Set.of("dpo", "dpo-hinge", "dpop", "ipo", "robust-dpo"),
                names(org.align4j.api.loss.PreferenceLoss.class));
        assertEquals(Set.of("ppo-clip"), names(org.align4j.api.loss.PolicyLoss.class));
        for (Class<?> single : List.of(TransformerFactory.class, WeightStore.class, CheckpointStore.class,
                TextDatasets.class, PipelineRunner.class, org.align4j.api.data.StructuredDatasets.class,
                org.align4j.api.data.Collator.class, org.align4j.api.generate.Generator.class,
                org.align4j.api.reward.RewardModels.class)) {
            assertNotNull(single.getSimpleName() + " is not registered", context.getServiceReference(single));
        }
        assertTrue("no metrics sink registered", context.getServiceReferences(TrainingListener.class, null).size() >= 2);
        // A trainer registers only when a pipeline configures it; its component is there from the start.
        Set<String> trainers = new TreeSet<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            if (List.of(d.serviceInterfaces).contains(Trainer.class.getName())) {
                trainers.add(String.valueOf(d.properties.get(Trainer.NAME)));
            }
        }
        assertEquals(Set.of("best-of-n", "dpo", "feedback", "package-reward", "ppo", "pretrain", "reward", "sft"), trainers);
    }

    @Test
    public void theGogoCommandsListThePlugins() throws Exception {
        CommandProcessor gogo = context.getService(context.getServiceReference(CommandProcessor.class));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (CommandSession session = gogo.createSession(new ByteArrayInputStream(new byte[0]), print, print)) {
            String table = String.valueOf(session.execute("align4j:plugins"));
            for (String name : List.of("mha", "causal-lm", "adamw", "cosine", "bpe", "jsonl", "arithmetic", "pretrain",
                    "sft", "arithmetic-verifier")) {
                assertTrue("align4j:plugins does not list " + name + ":\n" + table, table.contains(name));
            }
            assertTrue(table, table.contains("org.align4j.loss.lm"));
            assertEquals("no run is in progress", String.valueOf(session.execute("align4j:stop")));
        }
    }

    private <T> Set<String> names(Class<T> type) throws Exception {
        Set<String> out = new TreeSet<>();
        for (ServiceReference<T> r : context.getServiceReferences(type, null)) {
            out.add(String.valueOf(r.getProperty("align4j.name")));
        }
        return out;
    }
}
