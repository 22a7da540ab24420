/**
 * Reward models: batched scoring of prompt/completion pairs ({@link RewardModel}, implemented by plugins), and the
 * framework's way of choosing and leasing them per call ({@link RewardModels}), so that a replacement registered
 * while a trainer runs takes over at the next batch.
 *
 * <p>2.0.0: {@link RewardModel#score} returns {@link RewardScores} (outcome and optional per-step scores) and may
 * throw; {@link RewardModel#scoreTokens}, {@link RewardModels}, {@link Scored}, {@link RewardModelInfo} and
 * {@link RewardModelException} are new.
 */
@Export
@Version("2.2.0")
package org.align4j.api.reward;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
