/**
 * Verifiable tasks: problems with worked, step-by-step answers ({@link org.align4j.api.task.TaskExample}) and a
 * verifier that labels every step of a completion and checks its final answer ({@link org.align4j.api.task.Verdict}).
 * SFT trains on the examples, process reward models on the step labels, PPO/DPO and best-of-N rescoring on the
 * verdicts.
 */
@Export
@Version("1.0.0")
package org.align4j.api.task;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
