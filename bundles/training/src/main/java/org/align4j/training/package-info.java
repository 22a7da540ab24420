/**
 * The training loop every trainer builds on. A trainer bundle implements a {@link org.align4j.training.TrainingMethod}
 * (its loss from the run's models and a batch, each step's feeds, optional work between steps) and hands it to
 * {@link org.align4j.training.TrainingLoop}, which owns the rest: graph and session, the named models of a run
 * ({@code policy}, {@code reference}, {@code reward}, {@code value}; trainable or frozen; initialised from a seed, a
 * model folder or an earlier stage), optimizers, checkpoints and resume, stop and deactivation, cadence and events.
 */
@Export
@Version("1.3.0")
package org.align4j.training;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
