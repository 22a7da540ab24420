package org.align4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.align4j.api.train.Trainer;
import org.align4j.pipeline.internal.PluginInfo;
import org.align4j.pipeline.internal.TrainerInfo;
import org.junit.jupiter.api.Test;
import org.osgi.framework.dto.BundleDTO;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.ReferenceDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/** What Declarative Services' DTOs (plain data) become: trainer descriptions, and why a trainer did not start. */
class ScrTrainersTest {
    static final String LM_LOSS = "org.align4j.api.loss.LanguageModelLoss";

    static ComponentDescriptionDTO pretrain() {
        ComponentDescriptionDTO d = new ComponentDescriptionDTO();
        d.name = "org.align4j.trainer.pretrain.PretrainTrainer";
        d.serviceInterfaces = new String[] {Trainer.class.getName()};
        d.properties = Map.of(Trainer.NAME, "pretrain");
        d.configurationPid = new String[] {"org.align4j.trainer.pretrain"};
        d.configurationPolicy = "require";
        d.bundle = new BundleDTO();
        d.bundle.symbolicName = "org.align4j.trainer.pretrain";
        d.bundle.version = "0.1.0.202601010000";
        ReferenceDTO loss = new ReferenceDTO();
        loss.name = Trainer.LOSS;
        loss.interfaceName = LM_LOSS;
        loss.cardinality = "0..1";
        ReferenceDTO runtime = new ReferenceDTO();
        runtime.name = "runtime";
        runtime.interfaceName = "org.align4j.api.runtime.TensorFlowRuntime";
        runtime.cardinality = "1..1";
        d.references = new ReferenceDTO[] {loss, runtime};
        return d;
    }

    static ComponentConfigurationDTO configuration(int state, String run) {
        ComponentConfigurationDTO c = new ComponentConfigurationDTO();
        c.state = state;
        c.properties = Map.of(Trainer.RUN, run);
        return c;
    }

    @Test
    void aTrainerComponentIsDescribedByItsNameBundlePidAndReferences() {
        TrainerInfo t = ScrTrainers.info(pretrain());
        assertEquals("pretrain", t.name());
        assertEquals("pretrain 0.1.0.202601010000 [org.align4j.trainer.pretrain]", t.toString());
        assertEquals("org.align4j.trainer.pretrain", t.pid());
        assertEquals("require", t.configurationPolicy());
        assertEquals(LM_LOSS, t.reference(Trainer.LOSS).orElseThrow().interfaceName());
        assertEquals(false, t.reference(Trainer.LOSS).orElseThrow().mandatory());
        assertEquals(true, t.reference("runtime").orElseThrow().mandatory());

        ComponentDescriptionDTO other = pretrain();
        other.serviceInterfaces = new String[] {"org.align4j.api.metrics.TrainingListener"};
        assertNull(ScrTrainers.info(other));
        ComponentDescriptionDTO unnamed = pretrain();
        unnamed.properties = Map.of();
        assertNull(ScrTrainers.info(unnamed));
    }

    @Test
    void anUnsatisfiedReferenceIsNamedWithItsTargetAndWhatIsRegistered() {
        ComponentDescriptionDTO d = pretrain();
        ComponentConfigurationDTO c = configuration(ComponentConfigurationDTO.UNSATISFIED_REFERENCE, "tiny/0");
        UnsatisfiedReferenceDTO u = new UnsatisfiedReferenceDTO();
        u.name = Trainer.LOSS;
        u.target = "(align4j.name=causal-lm)";
        c.unsatisfiedReferences = new UnsatisfiedReferenceDTO[] {u};
        String why = ScrTrainers.explain(ScrTrainers.info(d), "tiny/0", Duration.ofSeconds(20), d, true,
                List.of(configuration(ComponentConfigurationDTO.ACTIVE, "other/0"), c),
                type -> List.of(new PluginInfo("token-mean", List.of(type), "org.example.loss", "2.0.0")));
        assertEquals("trainer pretrain 0.1.0.202601010000 [org.align4j.trainer.pretrain] did not register for stage"
                + " tiny/0 within 20 s: it is waiting for its reference \"loss\" (LanguageModelLoss"
                + " (align4j.name=causal-lm)): no service matches (registered LanguageModelLoss services: token-mean"
                + " 2.0.0 [org.example.loss])", why);
    }

    @Test
    void otherReasonsComeFromTheComponentsState() {
        ComponentDescriptionDTO d = pretrain();
        TrainerInfo t = ScrTrainers.info(d);
        String head = "trainer " + t + " did not register for stage tiny/0 within 20 s: ";
        ComponentConfigurationDTO failed = configuration(ComponentConfigurationDTO.FAILED_ACTIVATION, "tiny/0");
        failed.failure = "java.lang.IllegalStateException: no GPU\n\tat a.b.C.d(C.java:1)\n\tat e.f.G.h(G.java:2)";
        assertEquals(head + "its activation failed: java.lang.IllegalStateException: no GPU",
                ScrTrainers.explain(t, "tiny/0", Duration.ofSeconds(20), d, true, List.of(failed), x -> List.of()));
        assertEquals(head + "its component " + d.name + " is disabled; enable it (scr:enable " + d.name + ")",
                ScrTrainers.explain(t, "tiny/0", Duration.ofSeconds(20), d, false, List.of(), x -> List.of()));
        assertEquals(head + "Declarative Services made no instance of component " + d.name + " for the"
                + " configuration (factory PID org.align4j.trainer.pretrain); check that ConfigAdmin is running and"
                + " that the component's configuration PID is org.align4j.trainer.pretrain",
                ScrTrainers.explain(t, "tiny/0", Duration.ofSeconds(20), d, true, List.of(), x -> List.of()));
        assertEquals(head + "its component " + d.name + " is active but registered no org.align4j.api.train.Trainer"
                + " service with align4j.run=tiny/0", ScrTrainers.explain(t, "tiny/0", Duration.ofSeconds(20), d,
                        true, List.of(configuration(ComponentConfigurationDTO.ACTIVE, "tiny/0")), x -> List.of()));
    }
}
